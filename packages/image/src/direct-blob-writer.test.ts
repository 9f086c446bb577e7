import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, test } from 'node:test';
import type { BlobTarget, ContentWriteOptions, ContentWriter } from './content-writer.js';
import { DirectBlobWriter, directIngestDir } from './direct-blob-writer.js';

/** A ContentWriter that records what it was asked, and reads what the opener gives from the offset containerd would ask. */
class RecordingContentWriter {
  readonly writes: { ref: string; target: BlobTarget; sent: Buffer }[] = [];
  /** The offset containerd answers STAT with: the full size when it found the blob in its store. */
  offset: (target: BlobTarget) => number = t => t.size;
  fail: Error | undefined;

  async write(ref: string, target: BlobTarget, open: (offset: number) => Promise<Readable>, _options: ContentWriteOptions): Promise<void> {
    if (this.fail) throw this.fail;
    const offset = this.offset(target);
    const parts: Buffer[] = [];
    if (offset < target.size) for await (const chunk of await open(offset)) parts.push(chunk as Buffer);
    this.writes.push({ ref, target, sent: Buffer.concat(parts) });
  }
}

let dir: string;
let blobs: RecordingContentWriter;
let writer: DirectBlobWriter;
const options = (progress: number[] = []): ContentWriteOptions => ({ lease: 'l', signal: AbortSignal.timeout(10_000), onProgress: n => progress.push(n) });
const blobOf = (data: Buffer): BlobTarget => ({ digest: `sha256:${createHash('sha256').update(data).digest('hex')}`, size: data.length });
const stored = (target: BlobTarget) => join(dir, 'blobs', 'sha256', target.digest.slice('sha256:'.length));
const ingestLeft = () => (existsSync(join(dir, directIngestDir)) ? readdirSync(join(dir, directIngestDir)) : []);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'direct-blob-'));
  blobs = new RecordingContentWriter();
  writer = new DirectBlobWriter(dir, blobs as unknown as ContentWriter);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('the blob lands in blobs/sha256/<hex>, read-only, written 256 KiB at a time; containerd is asked to commit it and needs no byte', async () => {
  const data = randomBytes(40 * 16_384);
  const target = blobOf(data);
  const progress: number[] = [];
  const chunks = Array.from({ length: 40 }, (_, i) => data.subarray(i * 16_384, (i + 1) * 16_384));
  await writer.write('layer-x', target, async () => Readable.from(chunks), options(progress));
  assert.deepEqual(readFileSync(stored(target)), data);
  assert.equal(statSync(stored(target)).mode & 0o777, 0o444);
  assert.deepEqual(blobs.writes.map(w => ({ ref: w.ref, digest: w.target.digest, sent: w.sent.length })), [{ ref: 'layer-x', digest: target.digest, sent: 0 }]);
  assert.deepEqual(progress, [262_144, 524_288, data.length]);
  assert.deepEqual(ingestLeft(), []);
});

test('when containerd wants the bytes after all (its GC took the file), they come from the download', async () => {
  const data = Buffer.from('x'.repeat(70_000));
  const target = blobOf(data);
  blobs.offset = () => 1_000;
  await writer.write('layer-y', target, async () => Readable.from([data]), options());
  assert.deepEqual(blobs.writes[0]!.sent, data.subarray(1_000));
  assert.deepEqual(ingestLeft(), []);
});

test('a download that fails leaves nothing in the store and asks containerd for nothing', async () => {
  const data = Buffer.from('y'.repeat(10_000));
  const target = blobOf(data);
  const failing = async () => Readable.from((async function* () { yield data.subarray(0, 100); throw new Error('digest mismatch'); })());
  await assert.rejects(writer.write('layer-z', target, failing, options()), /digest mismatch/);
  assert.equal(existsSync(stored(target)), false);
  assert.deepEqual(blobs.writes, []);
  assert.deepEqual(ingestLeft(), []);
});

test('a blob containerd already holds is left as it is; a commit failure leaves the temporary file gone', async () => {
  const data = Buffer.from('z'.repeat(5_000));
  const target = blobOf(data);
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(stored(target), data);
  await writer.write('layer-w', target, async () => Readable.from([data]), options());
  assert.equal(blobs.writes.length, 1);
  blobs.fail = new Error('commit refused');
  await assert.rejects(writer.write('layer-w', target, async () => Readable.from([data]), options()), /commit refused/);
  assert.deepEqual(ingestLeft(), []);
});

test('a digest that is not sha256 goes to containerd\'s content API with the download', async () => {
  const data = Buffer.from('other');
  const target = { digest: `sha512:${createHash('sha512').update(data).digest('hex')}`, size: data.length };
  blobs.offset = () => 0;
  await writer.write('layer-v', target, async () => Readable.from([data]), options());
  assert.deepEqual(blobs.writes[0]!.sent, data);
  assert.equal(existsSync(join(dir, 'blobs')), false);
});

test('sweep removes what a killed download left', async () => {
  mkdirSync(join(dir, directIngestDir));
  writeFileSync(join(dir, directIngestDir, 'abc-123'), 'partial');
  await writer.sweep();
  assert.equal(existsSync(join(dir, directIngestDir)), false);
});
