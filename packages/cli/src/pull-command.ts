import ora from 'ora';
import * as grpc from '@grpc/grpc-js';
import { cri } from '@crikit/api';
import { describeError, unary, type CriConnection } from './cri-connection.js';

/** Options of `crikit pull`. */
export interface PullOptions {
  /** Gives up after this many seconds (0: no limit). */
  readonly timeoutSeconds: number;
  /** Output stream; the spinner animates only when it is a TTY. */
  readonly stream: NodeJS.WriteStream;
}

/**
 * Pulls `image` through the CRI PullImage RPC, showing a spinner with the elapsed time while it runs. PullImage
 * reports nothing until it ends, so no per-layer progress is shown. Resolves with the image ref (its id).
 * @throws Error naming the image and the gRPC status
 */
export async function pullImage(conn: CriConnection, image: string, options: PullOptions): Promise<string> {
  const started = Date.now();
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  const spinner = ora({ text: `pulling ${image}`, stream: options.stream }).start();
  const timer = setInterval(() => { spinner.text = `pulling ${image} (${elapsed()})`; }, 200);
  const deadline = options.timeoutSeconds > 0 ? Date.now() + Math.min(options.timeoutSeconds, 2_000_000) * 1000 : Infinity;
  try {
    const res = await unary<cri.PullImageResponse>(cb => conn.image.pullImage(
      cri.PullImageRequest.fromPartial({ image: { image, userSpecifiedImage: image } }),
      new grpc.Metadata(), { deadline }, cb));
    spinner.succeed(`pulled ${image} in ${elapsed()}: ${res.imageRef}`);
    return res.imageRef;
  } catch (err) {
    spinner.fail(describeError(`pull image "${image}"`, err));
    throw err;
  } finally {
    clearInterval(timer);
  }
}
