import assert from 'node:assert/strict';
import { test } from 'node:test';
import hpack, { type HpackHeader } from 'hpack.js';
import { headerFrames, maxFrameBytes, RequestFrameFilter } from './request-frame-filter.js';

const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}
const settings = frame(0x4, 0, 0, Buffer.alloc(0));
const data = (id: number, bytes: Buffer) => frame(0x0, 0x1, id, bytes);
const request = (authority: string): HpackHeader[] => [
  { name: ':method', value: 'POST', neverIndex: false }, { name: ':scheme', value: 'http', neverIndex: false },
  { name: ':path', value: '/x', neverIndex: false }, { name: ':authority', value: authority, neverIndex: false },
  { name: 'x-big', value: 'b'.repeat(300), neverIndex: false },
];

interface Parsed { type: number; flags: number; streamId: number; payload: Buffer }
function parse(bytes: Buffer): Parsed[] {
  assert.deepEqual(bytes.subarray(0, 24), preface);
  const out: Parsed[] = [];
  for (let off = 24; off < bytes.length;) {
    const len = bytes.readUIntBE(off, 3);
    out.push({ type: bytes[off + 3]!, flags: bytes[off + 4]!, streamId: bytes.readUInt32BE(off + 5), payload: bytes.subarray(off + 9, off + 9 + len) });
    off += 9 + len;
  }
  return out;
}
function feed(input: Buffer, chunk: number): Buffer {
  const filter = new RequestFrameFilter();
  const out: Buffer[] = [];
  for (let off = 0; off < input.length; off += chunk) out.push(...filter.push(input.subarray(off, off + chunk)));
  return Buffer.concat(out);
}

// A client's connection: a good request, then one with a socket path split over HEADERS (padded, with
// priority) and a CONTINUATION, each followed by a DATA frame.
function clientStream(): Buffer {
  const enc = hpack.compressor.create({ table: { maxSize: 4096 } });
  const block = (headers: HpackHeader[]) => { enc.write(headers); return enc.read()!; };
  const good = block(request('localhost'));
  const bad = block(request('/run/crikit.sock'));
  const priority = Buffer.from([0, 0, 0, 0, 15]);
  const padded = Buffer.concat([Buffer.from([4]), priority, bad.subarray(0, 10), Buffer.alloc(4)]);
  return Buffer.concat([
    preface, settings,
    frame(0x1, 0x4, 1, good), data(1, Buffer.from('first body')),
    frame(0x1, 0x8 | 0x20, 3, padded), frame(0x9, 0x4, 3, bad.subarray(10)), data(3, Buffer.from('second body')),
  ]);
}

test('header blocks are fixed and everything else passes byte for byte, however the bytes are chunked', () => {
  const input = clientStream();
  const whole = feed(input, input.length);
  for (const chunk of [1, 2, 7, 9, 10, 24, 100]) assert.deepEqual(feed(input, chunk), whole, `chunks of ${chunk}`);

  const frames = parse(whole);
  assert.deepEqual(frames.map(f => [f.type, f.streamId]), [[0x4, 0], [0x1, 1], [0x0, 1], [0x1, 3], [0x0, 3]]);
  assert.deepEqual(frames[2]!.payload, Buffer.from('first body'));
  assert.deepEqual(frames[4]!.payload, Buffer.from('second body'));
  // The first block went unchanged, the second as one HEADERS frame keeping the priority, without padding.
  const unchanged = 24 + 9 + (9 + frames[1]!.payload.length) + (9 + 10);
  assert.deepEqual(whole.subarray(0, unchanged), input.subarray(0, unchanged));
  assert.equal(frames[3]!.flags, 0x4 | 0x20);
  assert.deepEqual(frames[3]!.payload.subarray(0, 5), Buffer.from([0, 0, 0, 0, 15]));
  const dec = hpack.decompressor.create({ table: { maxSize: 4096 } });
  const decode = (block: Buffer) => { dec.write(block); dec.execute(); const out: HpackHeader[] = []; for (let h = dec.read(); h; h = dec.read()) out.push(h); return out; };
  assert.deepEqual(decode(frames[1]!.payload), request('localhost'));
  assert.deepEqual(decode(frames[3]!.payload.subarray(5)), request('localhost'));
});

test('a block larger than one frame is split into CONTINUATION frames', () => {
  const block = Buffer.alloc(maxFrameBytes * 2 + 10, 0x82);
  const frames = parse(Buffer.concat([preface, ...headerFrames(5, 0x1, undefined, block)]));
  assert.deepEqual(frames.map(f => [f.type, f.flags, f.payload.length]), [[0x1, 0x1, maxFrameBytes], [0x9, 0, maxFrameBytes], [0x9, 0x4, 10]]);
});

test('a frame the filter cannot make sense of goes on unchanged, and so does the rest of the connection', () => {
  const tail = Buffer.concat([data(1, Buffer.from('after')), frame(0x1, 0x4, 5, Buffer.from([0x41, 0x01, 0x2f]))]);
  for (const broken of [
    frame(0x9, 0x4, 1, Buffer.from([0x82])),                 // CONTINUATION without HEADERS
    frame(0x1, 0x4, 0, Buffer.from([0x82])),                 // HEADERS on stream 0
    frame(0x1, 0xc, 1, Buffer.from([0x09, 0x82])),           // padding longer than the frame
    frame(0x0, 0x0, 1, Buffer.alloc(maxFrameBytes + 1)),     // oversized
  ]) {
    const input = Buffer.concat([preface, settings, broken, tail]);
    assert.deepEqual(feed(input, 5), input);
  }
});

test('undecodable or oversized header blocks become a block the server refuses', () => {
  const undecodable = Buffer.concat([preface, frame(0x1, 0x5, 1, Buffer.from([0xff, 0xff, 0x7f]))]);
  assert.deepEqual(parse(feed(undecodable, 3))[0]!.payload, Buffer.from([0x80]));
  const endless = [preface, frame(0x1, 0x0, 1, Buffer.alloc(maxFrameBytes, 0x82))];
  for (let i = 0; i < 20; i++) endless.push(frame(0x9, 0x0, 1, Buffer.alloc(maxFrameBytes, 0x82)));
  const frames = parse(feed(Buffer.concat(endless), 4096));
  assert.deepEqual(frames.map(f => [f.type, f.payload]), [[0x1, Buffer.from([0x80])], ...frames.slice(1).map(f => [0x9, f.payload])]);
  assert.ok(frames.length < 21, 'frames after the refused block pass raw');
});

test('the first SETTINGS ACK is dropped and later ones pass; what a router waits on is reported', () => {
  const ack = frame(0x4, 0x1, 0, Buffer.alloc(0));
  const ping = frame(0x6, 0x0, 0, Buffer.alloc(8));
  const headers = frame(0x1, 0x4, 1, Buffer.from([0x83, 0x86, 0x84, 0x41, 0x09, ...Buffer.from('localhost')]));
  const filter = new RequestFrameFilter();
  const out = (bytes: Buffer) => Buffer.concat(filter.push(bytes));
  assert.deepEqual(out(Buffer.concat([preface, settings, headers, data(1, Buffer.from('x'))])), Buffer.concat([preface, settings, headers, data(1, Buffer.from('x'))]));
  assert.equal(filter.headerBlocks, 1);
  assert.equal(filter.settingsAcked, false);
  assert.deepEqual(out(Buffer.concat([ack, ack])), ack);
  assert.equal(filter.settingsAcked, true);
  assert.equal(filter.mustFilter, false);
  assert.deepEqual(out(ping), ping);
  assert.equal(filter.mustFilter, true);
});
