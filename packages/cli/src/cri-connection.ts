import * as grpc from '@grpc/grpc-js';
import { cri, crikit } from '@crikit/api';

/** Where crikitd listens unless configured otherwise (server.socket). */
export const defaultSocket = '/run/crikit/crikit.sock';

/** The two CRI services on one unix socket, as a kubelet dials them, and crikit's own Images service beside them. */
export interface CriConnection {
  readonly runtime: cri.RuntimeServiceClient;
  readonly image: cri.ImageServiceClient;
  /** Pull progress and image import (crikit.v1.Images); another CRI runtime answers UNIMPLEMENTED. */
  readonly crikit: crikit.ImagesClient;
  close(): void;
}

/** Opens clients on `socket` (a path, or a `unix:` address). Nothing is dialled until the first call. */
export function connectCri(socket: string): CriConnection {
  const address = socket.startsWith('unix:') ? socket : `unix:${socket}`;
  const runtime = new cri.RuntimeServiceClient(address, grpc.credentials.createInsecure());
  const image = new cri.ImageServiceClient(address, grpc.credentials.createInsecure());
  const own = new crikit.ImagesClient(address, grpc.credentials.createInsecure());
  return { runtime, image, crikit: own, close: () => { runtime.close(); image.close(); own.close(); } };
}

/** Turns a grpc-js callback call into a promise. */
export function unary<Res>(start: (cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => { start((err, res) => (err ? reject(err) : resolve(res))); });
}

/** A gRPC error as one line: `pull image "x": NOT_FOUND: ...`. */
export function describeError(what: string, err: unknown): string {
  const e = err as Partial<grpc.ServiceError>;
  // grpc-js ends connection errors with an empty "Resolution note:"; drop it.
  const details = (e.details ?? e.message ?? '').replace(/\s*Resolution note:\s*$/, '');
  if (typeof e.code === 'number') return `${what}: ${grpc.status[e.code] ?? e.code}: ${details}`;
  return `${what}: ${(err as Error).message ?? String(err)}`;
}
