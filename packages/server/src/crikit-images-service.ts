import type * as grpc from '@grpc/grpc-js';
import { crikit, type PartialMessage } from '@crikit/api';
import { defineService, type RpcWrapper, type StreamHandler } from './grpc/define-service.js';

/** Streams the archive chunks of an ImportImage call to its handler as they arrive. */
export type ImportImageHandler = (chunks: AsyncIterable<crikit.ImportImageChunk>, signal: AbortSignal) =>
  Promise<PartialMessage<crikit.ImportImageResponse>>;

/** Handlers of crikit's own Images service (proto/crikit); a missing one answers UNIMPLEMENTED. */
export interface CrikitImagesHandlers {
  watchPullProgress?: StreamHandler<typeof crikit.ImagesDefinition.methods.watchPullProgress>;
  importImage?: ImportImageHandler;
}

/**
 * Builds the grpc-js service of `crikit.v1.Images`. WatchPullProgress goes through `defineService`;
 * ImportImage is client-streaming, which `defineService` does not handle, so it is wired here: the
 * wrapper's unary path gives it readiness, the signal, logging and error mapping, and the handler
 * reads the call's messages itself. Aborting the call's signal destroys the stream, so a client
 * that goes away mid-upload ends the handler's loop instead of leaving it waiting.
 */
export function defineCrikitImagesService(handlers: CrikitImagesHandlers, wrap: RpcWrapper):
  { service: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation } {
  const { service, implementation } = defineService(crikit.ImagesDefinition, { watchPullProgress: handlers.watchPullProgress }, wrap);
  const importImage = handlers.importImage;
  if (importImage) {
    implementation.importImage = (call: grpc.ServerReadableStream<unknown, unknown>, done: grpc.sendUnaryData<unknown>) => {
      const handler = (_req: unknown, signal: AbortSignal): Promise<unknown> => {
        const destroy = (): void => { call.destroy(signal.reason instanceof Error ? signal.reason : new Error('the call ended')); };
        signal.addEventListener('abort', destroy, { once: true });
        return importImage(call as AsyncIterable<crikit.ImportImageChunk>, signal)
          .finally(() => signal.removeEventListener('abort', destroy));
      };
      wrap.unary('Images/ImportImage', handler, call as unknown as grpc.ServerUnaryCall<unknown, unknown>, done);
    };
  }
  return { service, implementation };
}
