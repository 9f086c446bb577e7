// Frames built byte by byte after the SPDY/3 wire format that moby/spdystream's framer writes
// (spdy/write.go, spdy/read.go), header blocks compressed with node's own zlib: our reader must
// decode them, and what our writer emits must parse back the same way.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { spdy3Dictionary } from './spdy-dictionary.js';
import { SpdyFrameReader, SpdyFrameWriter, SpdyProtocolError } from './spdy-frames.js';
import { SpdyHeaderCompressor, SpdyHeaderDecompressor } from './spdy-header-codec.js';

/** An uncompressed name/value block: 32-bit count, then 32-bit length-prefixed names and values. */
function nameValueBlock(headers: [string, string][]): Buffer {
  const parts = [u32(headers.length)];
  for (const [n, v] of headers) parts.push(u32(n.length), Buffer.from(n), u32(v.length), Buffer.from(v));
  return Buffer.concat(parts);
}
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };

/** Node's zlib as the peer's compression context: one stream, a sync flush per block. */
function peerCompressor(): (block: Buffer) => Promise<Buffer> {
  const deflate = zlib.createDeflate({ dictionary: spdy3Dictionary });
  return block => new Promise(resolve => {
    const out: Buffer[] = [];
    const onData = (c: Buffer) => out.push(c);
    deflate.on('data', onData);
    deflate.write(block);
    deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => { deflate.off('data', onData); resolve(Buffer.concat(out)); });
  });
}

/** A control frame: 1, version 3, type; flags, 24-bit length; payload. */
function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.from([0x80, 0x03, 0x00, type, flags, 0, 0, 0]);
  head.writeUIntBE(payload.length, 5, 3);
  return Buffer.concat([head, payload]);
}

describe('SPDY/3 header dictionary', () => {
  it('is the 1,423 bytes of the SPDY/3 draft (the checksum of an independent copy)', () => {
    assert.equal(spdy3Dictionary.length, 1423);
    assert.equal(createHash('sha256').update(spdy3Dictionary).digest('hex'), '51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02');
  });
});

describe('SpdyFrameReader', () => {
  it('reads SYN_STREAMs whose header blocks share one zlib context, split anywhere across reads', async () => {
    const compress = peerCompressor();
    const first = await compress(nameValueBlock([['streamtype', 'error']]));
    const second = await compress(nameValueBlock([['streamtype', 'stdin'], ['port', '80'], ['port', '8080']]));
    // stream id 1, associated 0, priority 0, slot 0
    const syn = (id: number, block: Buffer, flags = 0) => controlFrame(1, flags, Buffer.concat([u32(id), u32(0), Buffer.from([0, 0]), block]));
    const bytes = Buffer.concat([syn(1, first), syn(3, second, 0x01)]);
    const reader = new SpdyFrameReader(new SpdyHeaderDecompressor());
    const frames = [...reader.push(bytes.subarray(0, 7)), ...reader.push(bytes.subarray(7, 30)), ...reader.push(bytes.subarray(30))];
    assert.deepEqual(frames, [
      { type: 'synStream', streamId: 1, associatedId: 0, priority: 0, fin: false, unidirectional: false, headers: { streamtype: 'error' } },
      { type: 'synStream', streamId: 3, associatedId: 0, priority: 0, fin: true, unidirectional: false, headers: { streamtype: 'stdin', port: '80\u00008080' } },
    ]);
  });

  it('reads DATA, RST_STREAM, SETTINGS, PING, GOAWAY and WINDOW_UPDATE as spdystream writes them', () => {
    const data = Buffer.concat([u32(5), Buffer.from([0x01, 0, 0, 3]), Buffer.from('abc')]);
    const frames = new SpdyFrameReader(new SpdyHeaderDecompressor()).push(Buffer.concat([
      data,
      controlFrame(3, 0, Buffer.concat([u32(5), u32(5)])),
      controlFrame(4, 0, Buffer.concat([u32(1), Buffer.from([0x01, 0, 0, 7]), u32(1 << 20)])),
      controlFrame(6, 0, u32(7)),
      controlFrame(7, 0, Buffer.concat([u32(3), u32(0)])),
      controlFrame(9, 0, Buffer.concat([u32(5), u32(4096)])),
      controlFrame(99, 0, Buffer.alloc(4)),
    ]));
    assert.deepEqual(frames, [
      { type: 'data', streamId: 5, fin: true, data: Buffer.from('abc') },
      { type: 'rstStream', streamId: 5, status: 5 },
      { type: 'settings', entries: [{ flags: 1, id: 7, value: 1 << 20 }] },
      { type: 'ping', id: 7 },
      { type: 'goAway', lastGoodStreamId: 3, status: 0 },
      { type: 'windowUpdate', streamId: 5, delta: 4096 },
      { type: 'unknown', frameType: 99 },
    ]);
  });

  it('refuses another SPDY version and a corrupt header block', () => {
    const reader = new SpdyFrameReader(new SpdyHeaderDecompressor());
    assert.throws(() => reader.push(Buffer.from([0x80, 0x02, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1])), SpdyProtocolError);
    const bad = new SpdyFrameReader(new SpdyHeaderDecompressor());
    assert.throws(() => bad.push(controlFrame(2, 0, Buffer.concat([u32(1), Buffer.from('not zlib at all')]))), SpdyProtocolError);
  });
});

describe('SpdyFrameWriter', () => {
  it('writes SYN_REPLY and HEADERS blocks that node\'s zlib inflates with the dictionary, in one context', async () => {
    const writer = new SpdyFrameWriter(new SpdyHeaderCompressor());
    const frames = [writer.synReply(1, {}), writer.synStream(2, { StreamType: 'data', port: '80' }, { fin: true }), writer.headers(2, { a: 'b' })];
    assert.deepEqual([...frames[0]!.subarray(0, 5)], [0x80, 0x03, 0x00, 0x02, 0x00]);
    assert.equal(frames[0]!.readUInt32BE(8), 1);
    assert.deepEqual([...frames[1]!.subarray(0, 5)], [0x80, 0x03, 0x00, 0x01, 0x01]);
    const blocks = [frames[0]!.subarray(12), frames[1]!.subarray(18), frames[2]!.subarray(12)];
    const inflate = zlib.createInflate({ dictionary: spdy3Dictionary });
    const out: Buffer[] = [];
    inflate.on('data', c => out.push(c));
    for (const b of blocks) inflate.write(b);
    await new Promise<void>(r => inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
    assert.deepEqual(Buffer.concat(out), Buffer.concat([nameValueBlock([]), nameValueBlock([['streamtype', 'data'], ['port', '80']]), nameValueBlock([['a', 'b']])]));
  });

  it('writes the fixed frames byte for byte', () => {
    const w = new SpdyFrameWriter(new SpdyHeaderCompressor());
    assert.equal(w.data(3, Buffer.from('hi'), true).toString('hex'), '00000003' + '01000002' + '6869');
    assert.equal(w.rstStream(3, 5).toString('hex'), '80030003' + '00000008' + '00000003' + '00000005');
    assert.equal(w.ping(2).toString('hex'), '80030006' + '00000004' + '00000002');
    assert.equal(w.goAway(7, 0).toString('hex'), '80030007' + '00000008' + '00000007' + '00000000');
    assert.equal(w.windowUpdate(0, 65536).toString('hex'), '80030009' + '00000008' + '00000000' + '00010000');
    assert.equal(w.settings([{ id: 7, value: 1024 }]).toString('hex'), '80030004' + '0000000c' + '00000001' + '00000007' + '00000400');
  });
});
