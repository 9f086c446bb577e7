import type { cri } from '@crikit/api';
import type { ServiceHandlers } from './grpc/define-service.js';
import type { CrikitImagesHandlers } from './crikit-images-service.js';

/**
 * Handlers for part of the CRI. Each feature binds one group under the multi-token `CriHandlerGroup`;
 * the server merges them, later groups winning, and answers UNIMPLEMENTED for what no group handles.
 */
export interface CriHandlerGroup {
  runtime?(): ServiceHandlers<typeof cri.RuntimeServiceDefinition>;
  image?(): ServiceHandlers<typeof cri.ImageServiceDefinition>;
  /** crikit's own Images service (proto/crikit), served on the same socket. */
  crikitImages?(): CrikitImagesHandlers;
}
export const CriHandlerGroup = Symbol('CriHandlerGroup');
