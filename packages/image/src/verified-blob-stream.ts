/**
 * A blob download as a Node Readable that checks what it streams:
 *
 *   - size: more bytes than the descriptor says fails at once; fewer fails at the end;
 *   - digest: hashed while streaming, compared at the end (only from offset 0: a resumed ingest
 *     cannot hash bytes it never saw, so containerd's commit with the expected digest checks those;
 *     and not with `verifyDigest: false`, for bytes that go into containerd's content store anyway);
 *   - dropped connections: the download resumes where it stopped (a `Range` request through `open`),
 *     up to `tries` drops in a row without progress;
 *   - stalls: no byte for `stallTimeoutMs` while the consumer wants data fails the stream
 *     (time spent waiting on a slow consumer does not count);
 *   - the AbortSignal ends it with CancelledError or DeadlineExceededError.
 *
 * Errors reach the consumer as the stream's 'error'; bytes already passed on are not taken back.
 */
import type { Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  abortError, backoffDelay, CriError, DeadlineExceededError, FailedPreconditionError, UnavailableError, silentLogger, type Logger,
} from '@crikit/core';
import { digestHasher } from './content-digest.js';
import { isTransientNetworkError } from './registry-http.js';

/** Opens the blob at `offset`: the stream must start exactly there. Throws CriErrors (already retried). */
export type BlobOpener = (offset: number, signal: AbortSignal) => Promise<Readable>;

/** What `verifiedBlobStream` needs. */
export interface VerifiedBlobStreamOptions {
  /** The blob's digest (`sha256:…`, `sha384:…` or `sha512:…`) and size. */
  readonly descriptor: { readonly digest: string; readonly size: number };
  /** Where the stream starts; 0 by default. */
  readonly offset?: number;
  /**
   * Hash the bytes and fail at the end when they do not match the digest; true by default. Pass false
   * when they go into containerd's content store, whose commit with the expected digest checks them
   * anyway (it fails with FailedPrecondition on a mismatch): hashing twice costs a CPU second per GB.
   */
  readonly verifyDigest?: boolean;
  /** Opens (or reopens after a drop) the blob at an offset. */
  readonly open: BlobOpener;
  /** A body already opened at `offset`, used before `open` is called. */
  readonly first?: Readable;
  readonly signal: AbortSignal;
  /** Prefixes error messages: `pull "x": blob sha256:…`. */
  readonly what: string;
  /** No byte for this long fails the stream; 60 s by default. */
  readonly stallTimeoutMs?: number;
  /** Drops in a row without progress before giving up; 3 by default. */
  readonly tries?: number;
  /** Wait before resuming, doubled per drop in a row; 200 ms by default. */
  readonly backoffMs?: number;
  readonly log?: Logger;
}

/**
 * A Readable of the blob's bytes from `offset`, verified as described above.
 * @throws FailedPreconditionError (synchronously) for an unsupported digest algorithm or an offset beyond the size
 */
export function verifiedBlobStream(options: VerifiedBlobStreamOptions): Readable {
  const { descriptor, what } = options;
  const offset = options.offset ?? 0;
  let hasher: ReturnType<typeof digestHasher>;
  try {
    hasher = digestHasher(descriptor.digest);
  } catch (err) {
    throw new FailedPreconditionError(`${what}: ${(err as Error).message}`, { cause: err });
  }
  if (!Number.isInteger(offset) || offset < 0 || offset > descriptor.size) {
    throw new FailedPreconditionError(`${what}: offset ${offset} is outside the blob's ${descriptor.size} bytes`);
  }
  const hash = offset === 0 && options.verifyDigest !== false ? hasher.hash : undefined;
  return Readable.from(chunks(options, offset, hash), { objectMode: false, highWaterMark: 64 * 1024 });
}

async function* chunks(options: VerifiedBlobStreamOptions, offset: number, hash: Hash | undefined): AsyncGenerator<Buffer> {
  const { descriptor, what, signal } = options;
  const tries = options.tries ?? 3;
  const stallMs = options.stallTimeoutMs ?? 60_000;
  const log = options.log ?? silentLogger;
  let position = offset;
  let drops = 0;
  let body = options.first;
  try {
    while (position < descriptor.size) {
      if (signal.aborted) throw abortError(signal, what);
      try {
        body ??= await options.open(position, signal);
      } catch (err) {
        throw mapError(err, signal, what);
      }
      let failure: unknown;
      try {
        const iterator = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
        for (;;) {
          const next = await nextChunk(iterator, body, stallMs, signal, what);
          if (next.done === true) break;
          const chunk = next.value;
          if (position + chunk.length > descriptor.size) {
            throw new FailedPreconditionError(`${what}: registry sent more than the ${descriptor.size} bytes of the descriptor`);
          }
          hash?.update(chunk);
          position += chunk.length;
          drops = 0;
          yield chunk;
        }
      } catch (err) {
        if (err instanceof CriError || signal.aborted || !isTransientNetworkError(err)) throw mapError(err, signal, what);
        failure = err;
      }
      body.destroy();
      body = undefined;
      if (position >= descriptor.size) break;
      // The body ended early or the connection dropped: resume from where it stopped.
      drops++;
      const reason = failure instanceof Error ? failure.message : 'connection closed early';
      if (drops >= tries) {
        throw new UnavailableError(`${what}: download stopped at ${position} of ${descriptor.size} bytes ${drops} times: ${reason}`, { cause: failure });
      }
      log.info({ digest: descriptor.digest, position, size: descriptor.size, reason }, 'blob download dropped, resuming');
      try {
        await sleep(backoffDelay({ initialMs: options.backoffMs ?? 200 }, drops), undefined, { signal });
      } catch {
        throw abortError(signal, what);
      }
    }
    if (hash !== undefined) {
      const actual = `${descriptor.digest.slice(0, descriptor.digest.indexOf(':'))}:${hash.digest('hex')}`;
      // containerd: content whose digest differs from the expected one fails its commit with FailedPrecondition.
      if (actual !== descriptor.digest) throw new FailedPreconditionError(`${what}: digest mismatch: registry sent ${actual}`);
    }
  } finally {
    body?.destroy();
  }
}

/** The next chunk of `iterator`, failing when nothing arrives for `stallMs` or `signal` fires. */
function nextChunk(
  iterator: AsyncIterator<Buffer>, body: Readable, stallMs: number, signal: AbortSignal, what: string,
): Promise<IteratorResult<Buffer>> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      done();
      body.destroy();
      reject(abortError(signal, what));
    };
    const timer = setTimeout(() => {
      done();
      body.destroy();
      // containerd cancels a pull that makes no progress (image_pull_progress_timeout).
      reject(new DeadlineExceededError(`${what}: no data received for ${stallMs} ms`));
    }, stallMs);
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    iterator.next().then(
      result => { done(); resolve(result); },
      (err: unknown) => { done(); reject(err); },
    );
  });
}

function mapError(err: unknown, signal: AbortSignal, what: string): unknown {
  if (err instanceof CriError) return err;
  if (signal.aborted) return abortError(signal, what);
  return new UnavailableError(`${what}: download failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/**
 * `body` without its first `count` bytes, for a registry that answered a `Range` request with the
 * whole blob. Errors of `body` pass through unchanged.
 */
export function skipBytes(body: Readable, count: number): Readable {
  async function* rest(): AsyncGenerator<Buffer> {
    let left = count;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (left >= chunk.length) {
          left -= chunk.length;
          continue;
        }
        yield left > 0 ? chunk.subarray(left) : chunk;
        left = 0;
      }
    } finally {
      body.destroy();
    }
  }
  return Readable.from(rest(), { objectMode: false });
}
