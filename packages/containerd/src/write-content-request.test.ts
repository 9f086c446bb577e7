import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { content, type PartialMessage } from '@crikit/api';
import { encodeWriteContentRequest } from './write-content-request.js';

type Request = PartialMessage<content.WriteContentRequest>;

/** What the generated code makes of `req`. */
function generated(req: Request): Buffer {
  const bytes = content.WriteContentRequest.encode(content.WriteContentRequest.fromPartial(req)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const { STAT, WRITE, COMMIT, UNRECOGNIZED } = content.WriteAction;
const digest = `sha256:${'ab'.repeat(32)}`;

const cases: Array<[string, Request]> = [
  ['an empty message', {}],
  ['a WRITE of no data', { action: WRITE, offset: 0n, data: Buffer.alloc(0) }],
  ['a WRITE of one byte at offset 0', { action: WRITE, data: Buffer.from([0]) }],
  ['a WRITE of 127 and of 128 bytes (one- and two-byte lengths)', { action: WRITE, offset: 127n, data: randomBytes(128) }],
  ['a WRITE of 64 KiB at an offset', { action: WRITE, offset: 40n << 20n, data: randomBytes(64 << 10) }],
  ['a WRITE of 4 MiB (three-byte length) at an offset past 2^53', { action: WRITE, offset: (1n << 60n) + 3n, data: randomBytes(4 << 20) }],
  ['a WRITE with a Uint8Array view into a larger buffer', { action: WRITE, offset: 5n, data: Buffer.from(randomBytes(1000).buffer, 100, 500) }],
  ['a STAT', { action: STAT, ref: 'layer-sha256:abc', total: 209_715_200n, expected: digest }],
  ['a COMMIT with labels', {
    action: COMMIT, total: 12_345, offset: '12345', expected: digest,
    labels: { 'containerd.io/uncompressed': digest, 'containerd.io/distribution.source.registry.example:5000': 'team/app' },
  }],
  ['labels with empty keys or values, non-ASCII text, and an undefined value', {
    action: COMMIT, ref: 'ré/f 🚀', labels: { '': 'v', k: '', 'ü🚀': 'x'.repeat(300), gone: undefined },
  }],
  ['every field at once, data and labels', {
    action: WRITE, ref: 'r', total: 9_007_199_254_740_993n, expected: digest, offset: 100n, data: randomBytes(70_000), labels: { a: 'b' },
  }],
  ['int64 extremes and negatives', { action: WRITE, total: (1n << 63n) - 1n, offset: -(1n << 63n), data: Buffer.from('x') }],
  ['a negative offset and the UNRECOGNIZED action (ten-byte varints)', { action: UNRECOGNIZED, offset: -1n }],
  ['int64 fields given as numbers and strings', { total: 300, offset: '-5' }],
];

describe('encodeWriteContentRequest', () => {
  for (const [name, req] of cases) {
    it(`encodes ${name} as the generated code does`, () => {
      const mine = encodeWriteContentRequest(req);
      assert.deepEqual(content.WriteContentRequest.decode(mine), content.WriteContentRequest.fromPartial(req));
      assert.ok(mine.equals(generated(req)), 'the very same bytes');
    });
  }

  it('does not keep a reference to the caller\'s data', () => {
    const data = Buffer.from('abc');
    const bytes = encodeWriteContentRequest({ action: WRITE, data });
    data.fill(0);
    assert.deepEqual(content.WriteContentRequest.decode(bytes).data, Buffer.from('abc'));
  });

  it('refuses what the generated code refuses', () => {
    const bad: Request[] = [
      { total: 1n << 63n },
      { offset: -(1n << 63n) - 1n },
      { offset: 1.5 },
      { total: 'not a number' },
      { action: 2 ** 31 },
      { action: 0.5 as content.WriteAction },
    ];
    for (const req of bad) {
      assert.throws(() => generated(req), `generated: ${String(req.total ?? req.offset ?? req.action)}`);
      assert.throws(() => encodeWriteContentRequest(req), `own: ${String(req.total ?? req.offset ?? req.action)}`);
    }
    assert.throws(() => encodeWriteContentRequest({ total: 1n << 64n }), /message\.total of type int64 too large/);
  });
});
