import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import {
  CancelledError, DeadlineExceededError, errorKind, FailedPreconditionError, UnavailableError,
} from '@crikit/core';
import { RegistryUnreachableError } from './registry-errors.js';
import { skipBytes, verifiedBlobStream, type BlobOpener } from './verified-blob-stream.js';

const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff));
const descriptor = { digest: `sha256:${createHash('sha256').update(data).digest('hex')}`, size: data.length };
const what = 'pull "x": blob sha256:…';

/** A body sending `bytes` in 4 KiB chunks, then ending, or failing with `fail` instead of ending. */
function body(bytes: Buffer, fail?: NodeJS.ErrnoException): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    for (let i = 0; i < bytes.length; i += 4096) yield bytes.subarray(i, i + 4096);
    if (fail !== undefined) throw fail;
  }
  return Readable.from(gen(), { objectMode: false });
}

const reset = (): NodeJS.ErrnoException => Object.assign(new Error('aborted'), { code: 'ECONNRESET' });

/** An opener serving `data` from any offset, recording the offsets asked for. */
function opener(source: Buffer = data): BlobOpener & { offsets: number[] } {
  const offsets: number[] = [];
  const open = async (offset: number): Promise<Readable> => {
    offsets.push(offset);
    return body(source.subarray(offset));
  };
  return Object.assign(open, { offsets });
}

const never: BlobOpener = async () => {
  throw new RegistryUnreachableError('pull "x": registry h unreachable: connect ECONNREFUSED');
};

async function collect(stream: Readable, delayMs = 0): Promise<{ data: Buffer; error?: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      if (delayMs > 0) await sleep(delayMs);
    }
    return { data: Buffer.concat(chunks) };
  } catch (error) {
    return { data: Buffer.concat(chunks), error };
  }
}

const options = { descriptor, what, signal: new AbortController().signal, backoffMs: 1 };

describe('verifiedBlobStream', () => {
  it('passes good content through', async () => {
    const open = opener();
    const result = await collect(verifiedBlobStream({ ...options, open }));
    assert.equal(result.error, undefined);
    assert.ok(result.data.equals(data));
    assert.deepEqual(open.offsets, [0]);
  });

  it('fails at the end when the bytes do not match the digest', async () => {
    const wrong = Buffer.from(data);
    wrong[50_000] = wrong[50_000]! ^ 0xff;
    const result = await collect(verifiedBlobStream({ ...options, open: opener(wrong) }));
    assert.ok(result.error instanceof FailedPreconditionError);
    assert.match(result.error.message, /^pull "x": blob sha256:…: digest mismatch: registry sent sha256:[0-9a-f]{64}$/);
    assert.equal(result.data.length, data.length); // every byte was passed on before the verdict
  });

  it('fails at once when more bytes come than the descriptor says', async () => {
    const result = await collect(verifiedBlobStream({ ...options, open: opener(Buffer.concat([data, Buffer.alloc(10)])) }));
    assert.ok(result.error instanceof FailedPreconditionError);
    assert.match(result.error.message, /more than the 100000 bytes/);
  });

  it('resumes a short body from where it stopped', async () => {
    const open = opener();
    const first = body(data.subarray(0, 40_000));
    const result = await collect(verifiedBlobStream({ ...options, first, open }));
    assert.equal(result.error, undefined);
    assert.ok(result.data.equals(data));
    assert.deepEqual(open.offsets, [40_000]);
  });

  it('resumes after a dropped connection', async () => {
    const open = opener();
    const first = body(data.subarray(0, 8192), reset());
    const result = await collect(verifiedBlobStream({ ...options, first, open }));
    assert.equal(result.error, undefined);
    assert.ok(result.data.equals(data));
    assert.deepEqual(open.offsets, [8192]);
  });

  it('fails a short body when the registry cannot be reached again', async () => {
    const result = await collect(verifiedBlobStream({ ...options, first: body(data.subarray(0, 8192)), open: never }));
    assert.ok(result.error instanceof RegistryUnreachableError);
    assert.equal(result.data.length, 8192);
  });

  it('gives up after `tries` drops without progress', async () => {
    const open: BlobOpener = async () => body(Buffer.alloc(0));
    const result = await collect(verifiedBlobStream({ ...options, first: body(data.subarray(0, 100)), open, tries: 3 }));
    assert.ok(result.error instanceof UnavailableError);
    assert.match(result.error.message, /download stopped at 100 of 100000 bytes 3 times/);
  });

  it('fails when no byte arrives for the stall timeout', async () => {
    const stalled = new PassThrough();
    stalled.write(data.subarray(0, 1000));
    const result = await collect(verifiedBlobStream({ ...options, first: stalled, open: never, stallTimeoutMs: 50 }));
    assert.ok(result.error instanceof DeadlineExceededError);
    assert.match(result.error.message, /no data received for 50 ms/);
    assert.ok(stalled.destroyed);
  });

  it('does not count time spent waiting on a slow consumer as a stall', async () => {
    const result = await collect(verifiedBlobStream({ ...options, open: opener(data.subarray(0, 100_000)), stallTimeoutMs: 100 }), 150);
    assert.equal(result.error, undefined);
    assert.equal(result.data.length, data.length);
  });

  it('ends with CancelledError when the signal fires', async () => {
    const controller = new AbortController();
    const stalled = new PassThrough();
    stalled.write(data.subarray(0, 1000));
    setTimeout(() => controller.abort(), 20);
    const result = await collect(verifiedBlobStream({ ...options, signal: controller.signal, first: stalled, open: never }));
    assert.ok(result.error instanceof CancelledError);
    assert.equal(errorKind(result.error), 'cancelled');
    assert.ok(stalled.destroyed);
  });

  it('verifies only the size from a non-zero offset', async () => {
    const open = opener();
    const resumed = await collect(verifiedBlobStream({ ...options, offset: 60_000, open }));
    assert.equal(resumed.error, undefined);
    assert.ok(resumed.data.equals(data.subarray(60_000)));
    assert.deepEqual(open.offsets, [60_000]);
    // The tail of other content passes: only the content store can check the whole digest.
    const other = await collect(verifiedBlobStream({ ...options, offset: 60_000, open: opener(Buffer.alloc(data.length)) }));
    assert.equal(other.error, undefined);
  });

  it('with verifyDigest false, leaves the digest to the content store but still checks the size', async () => {
    const wrong = Buffer.from(data);
    wrong[50_000] = wrong[50_000]! ^ 0xff;
    const passed = await collect(verifiedBlobStream({ ...options, verifyDigest: false, open: opener(wrong) }));
    assert.equal(passed.error, undefined);
    assert.ok(passed.data.equals(wrong));
    const longer = await collect(verifiedBlobStream({ ...options, verifyDigest: false, open: opener(Buffer.concat([data, Buffer.alloc(10)])) }));
    assert.match(String(longer.error), /more than the 100000 bytes/);
    const shorter = await collect(verifiedBlobStream({ ...options, verifyDigest: false, first: body(data.subarray(0, 100)), open: never, tries: 1 }));
    assert.ok(shorter.error instanceof UnavailableError, String(shorter.error));
    assert.throws(() => verifiedBlobStream({ ...options, verifyDigest: false, descriptor: { digest: 'md5:00', size: 1 }, open: never }), FailedPreconditionError);
  });

  it('verifies an empty blob without asking for bytes', async () => {
    const empty = { digest: `sha256:${createHash('sha256').digest('hex')}`, size: 0 };
    const result = await collect(verifiedBlobStream({ ...options, descriptor: empty, open: never }));
    assert.equal(result.error, undefined);
    assert.equal(result.data.length, 0);
  });

  it('refuses unsupported digests and offsets beyond the size at once', () => {
    assert.throws(() => verifiedBlobStream({ ...options, descriptor: { digest: 'md5:00', size: 1 }, open: never }), FailedPreconditionError);
    assert.throws(() => verifiedBlobStream({ ...options, offset: data.length + 1, open: never }), /outside the blob/);
  });
});

describe('skipBytes', () => {
  it('drops the first bytes across chunk boundaries', async () => {
    assert.ok((await collect(skipBytes(body(data), 10_000))).data.equals(data.subarray(10_000)));
    assert.ok((await collect(skipBytes(body(data), 4096))).data.equals(data.subarray(4096)));
    assert.equal((await collect(skipBytes(body(data), data.length))).data.length, 0);
  });
});
