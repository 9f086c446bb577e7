import type { cri } from '@crikit/api';
import type { ServiceHandlers } from './grpc/define-service.js';

/**
 * Handlers for part of the CRI. Each feature binds one group under the multi-token `CriHandlerGroup`;
 * the server merges them, later groups winning, and answers UNIMPLEMENTED for what no group handles.
 */
export interface CriHandlerGroup {
  runtime?(): ServiceHandlers<typeof cri.RuntimeServiceDefinition>;
  image?(): ServiceHandlers<typeof cri.ImageServiceDefinition>;
}
export const CriHandlerGroup = Symbol('CriHandlerGroup');
