// CRI clients as they really are: an old grpc-go (1.33, built here) that sends the socket path as the
// HTTP/2 :authority, as every kubelet and crictl before 1.31 did, and a raw HTTP/2 client that sends any
// authority, none, or broken frames. All get answers from crikitd; broken frames get protocol errors and
// the daemon lives on.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { cri } from '@crikit/api';
import { startCrikitd, tempRuntimeDirs, type RunningCrikitd } from '../support/crikitd.js';
import { buildOldGrpcClient, type OldClientAnswer, type OldGrpcClient } from '../support/old-grpc-client.js';
import { frame, FrameType, preface, RawH2Client } from '../support/raw-h2-client.js';

const version = '/runtime.v1.RuntimeService/Version';
const versionRequest = cri.VersionRequest.encode({ version: 'v1' }).finish();

function reply(answer: OldClientAnswer): Buffer {
  assert.ok('reply' in answer, `expected an answer, got ${'error' in answer ? answer.error : ''}`);
  return answer.reply;
}

// The gRPC message of a unary answer, after its 5-byte prefix.
function grpcPayload(body: Buffer): Buffer {
  assert.ok(body.length >= 5, 'no gRPC message in the answer');
  return body.subarray(5, 5 + body.readUInt32BE(1));
}

describe('old and raw CRI clients', () => {
  const dirs = tempRuntimeDirs();
  let d: RunningCrikitd;
  let go: OldGrpcClient;
  before(async () => {
    go = buildOldGrpcClient();
    d = await startCrikitd(dirs.config, dirs.dir);
  });
  after(async () => {
    await d?.stop();
    go?.cleanup();
    dirs.cleanup();
  });

  test('the old grpc-go client is refused by a plain grpc-js server (the defect this guards against)', async () => {
    const plain = await plainGrpcServer(path.join(dirs.dir, 'plain.sock'));
    try {
      const old = await go.call(plain.socket, 'old', version, versionRequest);
      assert.ok('error' in old && /PROTOCOL_ERROR/.test(old.error), `expected a protocol error, got ${JSON.stringify(old)}`);
      const current = await go.call(plain.socket, 'new', version, versionRequest);
      assert.ok('error' in current && /Unimplemented/.test(current.error), 'the current style reaches the (empty) server');
    } finally {
      plain.close();
    }
  });

  test('an old grpc-go client and a current one get the same answers as grpc-js', async () => {
    const old = reply(await go.call(d.socket, 'old', version, versionRequest));
    const current = reply(await go.call(d.socket, 'new', version, versionRequest));
    assert.deepEqual(old, current);
    const expected = await d.client.runtime.version({ version: 'v1' });
    assert.deepEqual(cri.VersionResponse.decode(old), expected);
    assert.equal(expected.runtimeName, 'crikit');

    const listRequest = cri.ListImagesRequest.encode(cri.ListImagesRequest.fromPartial({})).finish();
    const images = reply(await go.call(d.socket, 'old', '/runtime.v1.ImageService/ListImages', listRequest));
    assert.deepEqual(cri.ListImagesResponse.decode(images), await d.client.image.listImages({}));
  });

  test('the old grpc-go client sends a 4 MiB request', async () => {
    const old = reply(await go.call(d.socket, 'old', version, versionRequest, 4));
    assert.equal(cri.VersionResponse.decode(old).runtimeName, 'crikit');
  });

  test('a raw HTTP/2 client gets answers with a socket path, an empty or no :authority', async () => {
    for (const authority of ['/run/x.sock', '', undefined, 'localhost']) {
      const c = RawH2Client.connect(d.socket);
      try {
        const res = await c.unary(version, authority, versionRequest);
        assert.equal(res.rstCode, undefined, `stream reset for authority ${JSON.stringify(authority)}`);
        assert.equal(res.headers[':status'], '200');
        assert.equal(res.trailers['grpc-status'], '0', `authority ${JSON.stringify(authority)}: ${JSON.stringify(res.trailers)}`);
        assert.equal(cri.VersionResponse.decode(grpcPayload(res.body)).runtimeName, 'crikit');
      } finally {
        c.close();
      }
    }
  });

  test('a connection whose first call names a socket path stays filtered: later calls may name anything', async () => {
    const c = RawH2Client.connect(d.socket);
    try {
      const authorities = ['/run/x.sock', 'localhost', '', undefined, '/var/run/other.sock', 'localhost'];
      for (let i = 0; i < 30; i++) {
        const authority = authorities[i % authorities.length];
        const res = await c.unary(version, authority, versionRequest);
        assert.equal(res.trailers['grpc-status'], '0', `call ${i} with ${JSON.stringify(authority)}: ${JSON.stringify(res)}`);
      }
      // Concurrent streams on the same connection.
      const all = await Promise.all(Array.from({ length: 10 }, (_, i) => c.unary(version, i % 2 ? '/run/x.sock' : 'localhost', versionRequest)));
      for (const res of all) assert.equal(res.trailers['grpc-status'], '0');
    } finally {
      c.close();
    }
  });

  test('a connection whose first call is ordinary goes to grpc-js itself, with the bytes read so far', async () => {
    const c = RawH2Client.connect(d.socket);
    try {
      // The whole first request, then the ACK of crikit's SETTINGS, arrive before the hand-over; later
      // calls go to grpc-js directly.
      for (let i = 0; i < 20; i++) {
        const res = await c.unary(version, 'localhost', versionRequest);
        assert.equal(cri.VersionResponse.decode(grpcPayload(res.body)).runtimeName, 'crikit', `call ${i}`);
      }
      // Field 15 (unknown to the server) of 60,000 bytes: a message in four DATA frames.
      const big = await c.unary(version, 'localhost', Buffer.concat([versionRequest, Buffer.from([0x7a, 0xe0, 0xd4, 0x03]), Buffer.alloc(60_000)]));
      assert.equal(big.trailers['grpc-status'], '0', 'a request in several DATA frames');
    } finally {
      c.close();
    }
  });

  test('broken frames get the protocol errors a plain grpc-js server gives, and the daemon lives on', async () => {
    const cases: [string, Buffer][] = [
      ['an index past the HPACK tables', frame(FrameType.HEADERS, 0x5, 1, Buffer.from([0xff, 0xff, 0x7f]))],
      ['a truncated HPACK string', frame(FrameType.HEADERS, 0x5, 1, Buffer.from([0x41, 0x0a, 0x61]))],
      ['a CONTINUATION without HEADERS', frame(FrameType.CONTINUATION, 0x4, 1, Buffer.from([0x82]))],
      ['HEADERS on stream 0', frame(FrameType.HEADERS, 0x4, 0, Buffer.from([0x82]))],
      ['padding longer than the frame', frame(FrameType.HEADERS, 0xc, 1, Buffer.from([0x09, 0x82]))],
      ['a frame over the maximum size', frame(FrameType.DATA, 0x0, 1, Buffer.alloc(20_000))],
      ['HEADERS interrupted by another frame', Buffer.concat([frame(FrameType.HEADERS, 0x0, 1, Buffer.from([0x83])), frame(FrameType.PING, 0, 0, Buffer.alloc(8))])],
    ];
    const goaway = async (socket: string, bytes: Buffer): Promise<number | undefined> => {
      const c = RawH2Client.connect(socket);
      try {
        c.sendRaw(bytes);
        return await c.goaway();
      } finally {
        c.close();
      }
    };
    const reference = await plainGrpcServer(path.join(dirs.dir, 'reference.sock'));
    try {
      for (const [what, bytes] of cases) {
        const expected = await goaway(reference.socket, bytes);
        assert.ok(expected !== undefined && expected !== 0, `the reference server answers ${what} with an error`);
        assert.equal(await goaway(d.socket, bytes), expected, what);
      }
    } finally {
      reference.close();
    }
    // A wrong preface, and a connection cut in the middle of a header block.
    const wrong = RawH2Client.connect(d.socket, false);
    wrong.sendRaw(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await wrong.closed;
    const cut = RawH2Client.connect(d.socket, false);
    cut.sendRaw(Buffer.concat([preface, frame(FrameType.HEADERS, 0x4, 1, Buffer.alloc(100, 0x82)).subarray(0, 40)]));
    cut.close();

    assert.equal((await d.client.runtime.version({})).runtimeName, 'crikit');
    assert.ok(reply(await go.call(d.socket, 'old', version, versionRequest)).length > 0);
    assert.equal(d.proc.exitCode, null);
  });
});

// A grpc-js server with no services, bound the ordinary way: the reference for how broken frames are answered.
async function plainGrpcServer(socket: string): Promise<{ socket: string; close(): void }> {
  const server = new grpc.Server();
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), e => (e ? reject(e) : resolve())));
  return { socket, close: () => { server.forceShutdown(); fs.rmSync(socket, { force: true }); } };
}
