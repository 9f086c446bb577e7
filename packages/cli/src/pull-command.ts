import * as grpc from '@grpc/grpc-js';
import { cri, crikit } from '@crikit/api';
import { describeError, unary, type CriConnection } from './cri-connection.js';
import { barsView, linesView, type PullProgressView } from './pull-progress-view.js';

/** Options of `crikit pull`. */
export interface PullOptions {
  /** Gives up after this many seconds (0: no limit). */
  readonly timeoutSeconds: number;
  /** Output stream: live bars when it is a TTY, plain lines otherwise. */
  readonly stream: NodeJS.WriteStream;
  /** Cancels the pull (Ctrl-C). */
  readonly signal?: AbortSignal;
}

/**
 * Pulls `image` through the CRI PullImage RPC while following crikit's WatchPullProgress, drawing a bar
 * per layer as bytes arrive. The watch is in place before PullImage starts, so no layer is missed. A
 * runtime without crikit's Images service (UNIMPLEMENTED) gets the pull without progress.
 * @returns the image ref (its id)
 * @throws the gRPC error of PullImage, or of the watch when it fails for another reason
 */
export async function pullImage(conn: CriConnection, image: string, options: PullOptions): Promise<string> {
  const started = Date.now();
  const write = (line: string): void => { options.stream.write(`${line}\n`); };
  const deadline = options.timeoutSeconds > 0 ? Date.now() + Math.min(options.timeoutSeconds, 2_000_000) * 1000 : Infinity;
  write(`pulling ${image}`);
  const view = options.stream.isTTY ? barsView(options.stream) : linesView(write);
  let watch: Watch | undefined;
  let pull: grpc.ClientUnaryCall | undefined;
  let complete = false;
  const cancel = (): void => { pull?.cancel(); watch?.call.cancel(); };
  options.signal?.addEventListener('abort', cancel, { once: true });
  try {
    watch = await startWatch(conn, image, { deadline, signal: options.signal }, view);
    if (!watch) write('(this runtime reports no pull progress)');
    const res = await Promise.race([
      unary<cri.PullImageResponse>(cb => {
        pull = conn.image.pullImage(cri.PullImageRequest.fromPartial({ image: { image, userSpecifiedImage: image } }), new grpc.Metadata(), { deadline }, cb);
      }),
      watch?.failed ?? new Promise<never>(() => {}),
    ]);
    complete = true;
    view.stop({ complete });
    write(`pulled ${image} in ${((Date.now() - started) / 1000).toFixed(1)}s: ${res.imageRef}`);
    return res.imageRef;
  } catch (err) {
    pull?.cancel();
    throw new Error(describeError(`pull image "${image}"`, err), { cause: err });
  } finally {
    options.signal?.removeEventListener('abort', cancel);
    if (!complete) view.stop({ complete });
    watch?.call.cancel();
  }
}

interface Watch {
  readonly call: grpc.ClientReadableStream<crikit.PullProgress>;
  /** Rejects if the watch fails before the pull ends (never resolves). */
  readonly failed: Promise<never>;
}

// Resolves once the server's first (empty) message says the watch is in place; undefined when the
// runtime does not have crikit's Images service.
function startWatch(conn: CriConnection, image: string, opts: { deadline: number; signal: AbortSignal | undefined }, view: PullProgressView): Promise<Watch | undefined> {
  const call = conn.crikit.watchPullProgress(crikit.WatchPullProgressRequest.fromPartial({ image }), new grpc.Metadata(), { deadline: opts.deadline });
  // Ctrl-C before the watch is in place ends it (CANCELLED); after, pullImage cancels it.
  const cancel = (): void => call.cancel();
  opts.signal?.addEventListener('abort', cancel, { once: true });
  call.once('status', () => opts.signal?.removeEventListener('abort', cancel));
  let fail!: (err: unknown) => void;
  const failed = new Promise<never>((_resolve, reject) => { fail = reject; });
  failed.catch(() => {});
  return new Promise((resolve, reject) => {
    let ready = false;
    call.on('data', (p: crikit.PullProgress) => {
      if (!ready) {
        ready = true;
        resolve({ call, failed });
        return;
      }
      view.update(p.layerDigest, Number(p.bytesDone), Number(p.bytesTotal));
    });
    call.on('error', (err: grpc.ServiceError) => {
      if (!ready && err.code === grpc.status.UNIMPLEMENTED) resolve(undefined);
      else if (!ready) reject(err);
      // Our own cancel at the end of the pull is no failure.
      else if (err.code !== grpc.status.CANCELLED) fail(err);
    });
    call.on('end', () => { if (!ready) resolve(undefined); });
  });
}
