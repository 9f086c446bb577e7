import * as grpc from '@grpc/grpc-js';
import { cri, type PartialMessage } from '@crikit/api';

type Unary<Req, Res> = (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, res: Res) => void) => grpc.ClientUnaryCall;
/** The promise form of a generated grpc-js client: each unary method takes a partial request. */
export type PromiseClient<C> = {
  [K in keyof C as C[K] extends Unary<any, any> ? K : never]: C[K] extends Unary<infer Req, infer Res>
    ? (req?: PartialMessage<Req>, opts?: { timeoutMs?: number }) => Promise<Res> : never;
};

/** A kubelet-shaped CRI client: RuntimeService and ImageService on one unix socket. */
export interface CriClient {
  runtime: PromiseClient<cri.RuntimeServiceClient>;
  image: PromiseClient<cri.ImageServiceClient>;
  raw: { runtime: cri.RuntimeServiceClient; image: cri.ImageServiceClient };
  close(): void;
}

/** Connects to a CRI socket with the generated clients. */
export function criClient(socket: string): CriClient {
  const runtime = new cri.RuntimeServiceClient(`unix:${socket}`, grpc.credentials.createInsecure());
  const image = new cri.ImageServiceClient(`unix:${socket}`, grpc.credentials.createInsecure(), {}, ) ;
  return {
    runtime: promisify(runtime, cri.RuntimeServiceDefinition.methods),
    image: promisify(image, cri.ImageServiceDefinition.methods),
    raw: { runtime, image },
    close: () => { runtime.close(); image.close(); },
  };
}

function promisify<C extends grpc.Client>(client: C, methods: Record<string, { requestType: { fromPartial(o: unknown): unknown } }>): PromiseClient<C> {
  const out: Record<string, unknown> = {};
  for (const [name, m] of Object.entries(methods)) {
    const fn = (client as unknown as Record<string, Unary<unknown, unknown>>)[name];
    if (typeof fn !== 'function') continue;
    out[name] = (req: unknown = {}, opts: { timeoutMs?: number } = {}) => new Promise((resolve, reject) => {
      fn.call(client, m.requestType.fromPartial(req), new grpc.Metadata(), { deadline: Date.now() + (opts.timeoutMs ?? 60_000) },
        (err, res) => (err ? reject(err) : resolve(res)));
    });
  }
  return out as PromiseClient<C>;
}
