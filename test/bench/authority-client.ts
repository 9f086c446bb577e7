// The worker thread of `pnpm bench:authority`: a grpc-js CRI client on its own event loop (and so its own
// core), making the calls the main thread asks for and posting back each call's latency in ms.
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { cri } from '@crikit/api';

/** One block of calls. */
export interface ClientJob { socket: string; rpc: 'version' | 'listContainers'; calls: number }

// The kubelet's limit for CRI replies is 16 MiB; grpc-js clients take 4 MiB unless told.
const clients = new Map<string, cri.RuntimeServiceClient>();
const unary = <Req, Res>(fn: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown, req: Req) =>
  new Promise<Res>((resolve, reject) => { fn(req, (err, res) => (err ? reject(err) : resolve(res))); });
parentPort!.on('message', async (job: ClientJob) => {
  let client = clients.get(job.socket);
  if (!client) {
    client = new cri.RuntimeServiceClient(`unix:${job.socket}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 16 << 20 });
    clients.set(job.socket, client);
  }
  const c = client;
  const call = job.rpc === 'version'
    ? () => unary(c.version.bind(c), cri.VersionRequest.fromPartial({}))
    : () => unary(c.listContainers.bind(c), cri.ListContainersRequest.fromPartial({}));
  const ms: number[] = [];
  for (let i = 0; i < job.calls; i++) {
    const t = performance.now();
    await call();
    ms.push(performance.now() - t);
  }
  parentPort!.postMessage(ms);
});
