/** A small CRI client for the tests: the generated grpc-js clients on a unix socket, as promises. */
import * as grpc from '@grpc/grpc-js';
import { cri } from '@crikit/api';

type Callback<Res> = (err: grpc.ServiceError | null, res: Res) => void;
type UnaryMethod<Req, Res> = (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: Callback<Res>) => grpc.ClientUnaryCall;

/** Calls one unary method with a deadline of `timeoutMs`. */
export function unary<Req, Res>(method: UnaryMethod<Req, Res>, req: Req, timeoutMs = 120_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** The CRI image service on `socket`, with the calls the tests make. */
export function imageClient(socket: string) {
  const client = new cri.ImageServiceClient(`unix:${socket}`, grpc.credentials.createInsecure());
  return {
    pull: (image: string) => unary(client.pullImage.bind(client), cri.PullImageRequest.fromPartial({ image: { image } })),
    status: (image: string) => unary(client.imageStatus.bind(client), cri.ImageStatusRequest.fromPartial({ image: { image } })),
    list: () => unary(client.listImages.bind(client), cri.ListImagesRequest.fromPartial({})),
    close: () => client.close(),
  };
}
