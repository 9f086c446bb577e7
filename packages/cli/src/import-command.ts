import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import cliProgress from 'cli-progress';
import { crikit } from '@crikit/api';
import { describeError, type CriConnection } from './cri-connection.js';

/** Options of `crikit import`. */
export interface ImportOptions {
  /** Output stream: a live upload bar when it is a TTY, plain lines otherwise. */
  readonly stream: NodeJS.WriteStream;
  /** Cancels the upload and the import (Ctrl-C). */
  readonly signal?: AbortSignal;
}

/** Bytes per ImportImage message; crikitd takes messages of up to 16 MiB. */
const chunkBytes = 1024 * 1024;

/**
 * Sends the `docker save` archive or OCI image layout tar at `file` to crikitd's ImportImage, in chunks as
 * fast as the server reads them, and prints each imported image's id and names.
 * @returns the imported images
 * @throws Error naming the file and the reason (a local check, or the gRPC status)
 */
export async function importArchive(conn: CriConnection, file: string, options: ImportOptions): Promise<crikit.ImportedImage[]> {
  const write = (line: string): void => { options.stream.write(`${line}\n`); };
  const fail = (reason: string): never => { throw new Error(`import "${file}": ${reason}`); };
  const st = await fs.promises.stat(file).catch((err: NodeJS.ErrnoException) => fail(err.code === 'ENOENT' ? 'no such file' : err.message));
  if (!st.isFile()) fail('not a regular file');
  if (st.size === 0) fail('the file is empty');
  const bar = options.stream.isTTY ? new cliProgress.SingleBar({
    stream: options.stream, fps: 10, hideCursor: true, barsize: 30,
    format: 'uploading [{bar}] {percentage}% {doneMiB}/{totalMiB} MiB', barCompleteChar: '█', barIncompleteChar: '░',
  }) : undefined;
  write(`importing ${file} (${(st.size / 1024 / 1024).toFixed(1)} MiB)`);
  bar?.start(st.size, 0, { doneMiB: '0.0', totalMiB: (st.size / 1024 / 1024).toFixed(1) });
  let settle!: (err: grpc.ServiceError | null, res?: crikit.ImportImageResponse) => void;
  const result = new Promise<crikit.ImportImageResponse>((resolve, reject) => { settle = (err, res) => (err ? reject(err) : resolve(res!)); });
  result.catch(() => {});
  const call = conn.crikit.importImage(new grpc.Metadata(), {}, (err, res) => settle(err, res));
  const cancel = (): void => call.cancel();
  options.signal?.addEventListener('abort', cancel, { once: true });
  try {
    await send(call, file, path.basename(file), result, sent => bar?.update(sent, { doneMiB: (sent / 1024 / 1024).toFixed(1) }));
    bar?.stop();
    write('uploaded; crikitd is importing');
    const res = await result;
    for (const image of res.images) write(`imported ${image.id}  ${image.repoTags.length > 0 ? image.repoTags.join(', ') : '<untagged>'}`);
    return res.images;
  } catch (err) {
    bar?.stop();
    call.cancel();
    // The server's answer says why better than a write that failed because of it.
    const reason = await result.then(() => err, e => e as unknown);
    throw new Error(describeError(`import "${file}"`, reason), { cause: reason });
  } finally {
    options.signal?.removeEventListener('abort', cancel);
  }
}

// Streams the file as chunks, the archive's name in the first; waits for the call to drain (the server
// reads as it writes to disk), and stops early if the server has already answered.
async function send(call: grpc.ClientWritableStream<crikit.ImportImageChunk>, file: string, name: string,
  answered: Promise<unknown>, progress: (sent: number) => void): Promise<void> {
  let ended = false;
  answered.then(() => { ended = true; }, () => { ended = true; });
  let sent = 0;
  for await (const data of fs.createReadStream(file, { highWaterMark: chunkBytes })) {
    if (ended) break;
    const flowing = call.write(crikit.ImportImageChunk.fromPartial({ name: sent === 0 ? name : '', data: data as Buffer }));
    sent += (data as Buffer).length;
    progress(sent);
    if (!flowing) await Promise.race([new Promise(resolve => call.once('drain', resolve)), answered.catch(() => undefined)]);
  }
  if (!ended) call.end();
  // An answer before the whole archive was sent is a refusal: it is the error to report.
  if (ended) await answered;
}
