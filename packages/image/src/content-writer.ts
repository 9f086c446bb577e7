import { Readable } from 'node:stream';
import { content } from '@crikit/api';
import { isAlreadyExists, isNotFound, type ContainerdClient } from '@crikit/core';

/** How many bytes one WRITE message carries at most, give or take one HTTP chunk. */
const writeBatchBytes = 1 << 20;

/** What a blob is expected to be. */
export interface BlobTarget {
  readonly digest: string;
  readonly size: number;
}

/** Options of one write into the content store. */
export interface ContentWriteOptions {
  /** Holds what is written until the pull has recorded the image. */
  readonly lease: string;
  /** Labels set on commit (GC references, `containerd.io/uncompressed`, distribution source). */
  readonly labels?: Record<string, string>;
  readonly signal: AbortSignal;
  /** Called with the bytes written so far, as they go. */
  readonly onProgress?: (bytesDone: number) => void;
}

/**
 * Writes blobs into containerd's content store over the Write stream (STAT, WRITE…, COMMIT), with
 * the expected digest and size, so containerd verifies them: a commit of other bytes fails with
 * FailedPreconditionError (`unexpected commit digest …, expected …`) and the ingest is aborted. Layer
 * downloads rely on that alone for their digest. A write whose ingest `ref` already holds bytes (a
 * crikit that died mid-pull) resumes from containerd's offset.
 */
export class ContentWriter {
  constructor(private readonly containerd: ContainerdClient) {}

  /** True when committed content with `digest` exists. */
  async has(digest: string, signal: AbortSignal): Promise<boolean> {
    try {
      await this.containerd.content.info({ digest }, { signal });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Streams a blob in. `open(offset)` gives the bytes from `offset` on.
   * Resolves when containerd has committed it (or already had it).
   * @throws whatever `open`'s stream or containerd raises; the ingest is then aborted
   */
  async write(ref: string, target: BlobTarget, open: (offset: number) => Promise<Readable>, options: ContentWriteOptions): Promise<void> {
    const call = this.containerd.content.write({ signal: options.signal, lease: options.lease });
    const responses = call.responses[Symbol.asyncIterator]();
    const next = async (): Promise<content.WriteContentResponse> => {
      const r = await responses.next();
      if (r.done) throw new Error(`content write ${ref}: containerd closed the stream early`);
      return r.value;
    };
    let offset: number;
    try {
      await call.send({ action: content.WriteAction.STAT, ref, total: BigInt(target.size), expected: target.digest });
      offset = Number((await next()).offset);
    } catch (err) {
      call.cancel();
      if (isAlreadyExists(err)) return;
      throw err;
    }
    try {
      // Responses to WRITE are read in the background: containerd answers each, and an unread
      // stream would stall our sends.
      let failure: unknown;
      const reader = (async () => {
        try {
          for (;;) {
            const r = await next();
            if (r.action === content.WriteAction.COMMIT) return r;
          }
        } catch (err) {
          failure = err;
          throw err;
        }
      })();
      reader.catch(() => {});
      if (offset < target.size) {
        // HTTP hands over chunks of 16-64 KiB; containerd answers every WRITE, so they go in batches
        // of about 1 MiB (containerd's own copy buffer size): far fewer messages for the same bytes.
        let batch: Buffer[] = [];
        let batched = 0;
        const flush = async (): Promise<void> => {
          if (batched === 0) return;
          if (failure) throw failure;
          await call.send({ action: content.WriteAction.WRITE, offset: BigInt(offset), data: batch.length === 1 ? batch[0]! : Buffer.concat(batch, batched) });
          offset += batched;
          batch = [];
          batched = 0;
          options.onProgress?.(offset);
        };
        for await (const chunk of await open(offset) as AsyncIterable<Buffer>) {
          batch.push(chunk);
          batched += chunk.length;
          if (batched >= writeBatchBytes) await flush();
        }
        await flush();
      }
      await call.send({ action: content.WriteAction.COMMIT, total: BigInt(target.size), offset: BigInt(offset), expected: target.digest, labels: options.labels ?? {} });
      call.end();
      await reader;
    } catch (err) {
      call.cancel();
      if (isAlreadyExists(err)) return; // another writer committed the same blob first
      await this.abort(ref);
      throw err;
    }
  }

  /** Writes a small blob held in memory (manifest, config, index). */
  async writeBuffer(ref: string, target: BlobTarget, data: Buffer, options: ContentWriteOptions): Promise<void> {
    await this.write(ref, target, async offset => Readable.from([data.subarray(offset)]), options);
  }

  /**
   * Stores a small blob held in memory (manifest, index, config) with `labels`; when it is already
   * there, only its labels are set. Written after the layers, so GC labels only ever point at
   * content that is present.
   */
  async store(ref: string, target: BlobTarget, data: Buffer, options: ContentWriteOptions): Promise<void> {
    if (await this.has(target.digest, options.signal)) await this.setLabels(target.digest, options.labels ?? {}, options.signal);
    else await this.writeBuffer(ref, target, data, options);
  }

  /** Reads a whole blob (a config or manifest: small). */
  async read(digest: string, signal: AbortSignal): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const r of this.containerd.content.read({ digest }, { signal })) parts.push(r.data);
    return Buffer.concat(parts);
  }

  /** Sets (or, with '', clears) labels on committed content, leaving the others. */
  async setLabels(digest: string, labels: Record<string, string>, signal: AbortSignal): Promise<void> {
    await this.containerd.content.update({
      info: { digest, labels },
      updateMask: Object.keys(labels).map(k => `labels.${k}`),
    }, { signal });
  }

  /** Drops a partial ingest; a missing one is fine. */
  private async abort(ref: string): Promise<void> {
    await this.containerd.content.abort({ ref }, { signal: AbortSignal.timeout(10_000) }).catch(() => {});
  }
}
