/** A small CRI client for the tests: the generated grpc-js clients on a unix socket, as promises. */
import * as grpc from '@grpc/grpc-js';
import { cri, type PartialMessage } from '@crikit/api';

type Callback<Res> = (err: grpc.ServiceError | null, res: Res) => void;
type UnaryMethod<Req, Res> = (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: Callback<Res>) => grpc.ClientUnaryCall;

/** Calls one unary method with a deadline of `timeoutMs`. */
export function unary<Req, Res>(method: UnaryMethod<Req, Res>, req: Req, timeoutMs = 120_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** The CRI runtime and image services on `socket`, with the calls the tests make. */
export function criClient(socket: string) {
  const runtime = new cri.RuntimeServiceClient(`unix:${socket}`, grpc.credentials.createInsecure());
  const image = new cri.ImageServiceClient(`unix:${socket}`, grpc.credentials.createInsecure());
  const r = <Req, Res>(m: UnaryMethod<Req, Res>) => m.bind(runtime) as UnaryMethod<Req, Res>;
  return {
    runPod: (config: PartialMessage<cri.PodSandboxConfig>) =>
      unary(r(runtime.runPodSandbox), cri.RunPodSandboxRequest.fromPartial({ config })),
    stopPod: (podSandboxId: string) => unary(r(runtime.stopPodSandbox), cri.StopPodSandboxRequest.fromPartial({ podSandboxId })),
    removePod: (podSandboxId: string) => unary(r(runtime.removePodSandbox), cri.RemovePodSandboxRequest.fromPartial({ podSandboxId })),
    createContainer: (podSandboxId: string, sandboxConfig: PartialMessage<cri.PodSandboxConfig>, config: PartialMessage<cri.ContainerConfig>) =>
      unary(r(runtime.createContainer), cri.CreateContainerRequest.fromPartial({ podSandboxId, sandboxConfig, config })),
    startContainer: (containerId: string) => unary(r(runtime.startContainer), cri.StartContainerRequest.fromPartial({ containerId })),
    containerStatus: (containerId: string) => unary(r(runtime.containerStatus), cri.ContainerStatusRequest.fromPartial({ containerId })),
    pull: (ref: string) => unary(image.pullImage.bind(image), cri.PullImageRequest.fromPartial({ image: { image: ref } })),
    close: () => { runtime.close(); image.close(); },
  };
}
