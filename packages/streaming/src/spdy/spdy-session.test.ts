// A server session against a raw peer that writes and reads frames itself, over real loopback sockets.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, it } from 'node:test';
import { SpdyFrameReader, SpdyFrameWriter, type SpdyFrame } from './spdy-frames.js';
import { SpdyHeaderCompressor, SpdyHeaderDecompressor } from './spdy-header-codec.js';
import { SpdySession } from './spdy-session.js';

const sockets: net.Socket[] = [];
after(() => { for (const s of sockets) s.destroy(); });

/** A connected pair of sockets: the session's and the raw peer's. */
async function pair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>(r => server.once('connection', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const a = await accepted;
  server.close();
  sockets.push(a, client);
  return [a, client];
}

/** The raw peer: writes frames, collects what it reads. */
function rawPeer(socket: net.Socket) {
  const writer = new SpdyFrameWriter(new SpdyHeaderCompressor());
  const reader = new SpdyFrameReader(new SpdyHeaderDecompressor());
  const frames: SpdyFrame[] = [];
  const waiters: (() => void)[] = [];
  socket.on('data', (c: Buffer) => { frames.push(...reader.push(c)); for (const w of waiters.splice(0)) w(); });
  const until = async (pred: (f: SpdyFrame[]) => boolean): Promise<void> => {
    while (!pred(frames)) await new Promise<void>((resolve, reject) => { waiters.push(resolve); setTimeout(() => reject(new Error(`timed out; got ${frames.map(f => f.type)}`)), 5_000).unref(); });
  };
  return { writer, frames, until, send: (b: Buffer) => socket.write(b) };
}
const dataBytes = (frames: SpdyFrame[], id: number) => frames.filter(f => f.type === 'data' && f.streamId === id).reduce((n, f) => n + (f as { data: Buffer }).data.length, 0);

it('honours the peer\'s flow-control window once it announces one, and then reopens the peer\'s window as data is read', async () => {
  const [mine, theirs] = await pair();
  const session = new SpdySession(mine, 'server');
  const peer = rawPeer(theirs);
  const received: Buffer[] = [];
  session.on('stream', s => {
    s.reply();
    s.on('data', (c: Buffer) => received.push(c));
    s.end(Buffer.alloc(100, 7));
  });
  peer.send(peer.writer.settings([{ id: 7, value: 10 }]));
  peer.send(peer.writer.synStream(1, { streamtype: 'data' }));
  await peer.until(f => dataBytes(f, 1) === 10);
  await new Promise(r => setTimeout(r, 100));
  assert.equal(dataBytes(peer.frames, 1), 10, 'nothing beyond the window');
  peer.send(peer.writer.windowUpdate(1, 90));
  await peer.until(f => f.some(x => x.type === 'data' && x.fin));
  assert.equal(dataBytes(peer.frames, 1), 100);

  // 40 000 bytes from the peer: more than half of the 64 KiB window, so both windows are reopened.
  peer.send(peer.writer.data(1, Buffer.alloc(40_000, 1), false));
  await peer.until(f => f.filter(x => x.type === 'windowUpdate').length >= 2);
  assert.deepEqual(peer.frames.filter(x => x.type === 'windowUpdate').map(x => (x as { streamId: number }).streamId).sort(), [0, 1]);
  assert.equal(Buffer.concat(received).length, 40_000);
  session.destroy();
});

it('answers the peer\'s PING, refuses a stream id going backwards, and closes after GOAWAY once streams are done', async () => {
  const [mine, theirs] = await pair();
  const session = new SpdySession(mine, 'server');
  const peer = rawPeer(theirs);
  session.on('stream', s => { s.reply(); s.end(); s.resume(); });
  peer.send(peer.writer.ping(1));
  await peer.until(f => f.some(x => x.type === 'ping' && x.id === 1));
  peer.send(peer.writer.synStream(5, { streamtype: 'a' }));
  peer.send(peer.writer.synStream(3, { streamtype: 'b' }));
  await peer.until(f => f.some(x => x.type === 'rstStream' && x.streamId === 3));
  const closed = new Promise<void>(r => session.once('close', () => r()));
  session.goAway();
  await peer.until(f => f.some(x => x.type === 'goAway'));
  peer.send(peer.writer.data(5, Buffer.alloc(0), true));
  theirs.end();
  await closed;
  assert.equal(session.isClosed, true);
});

it('a peer sending frames it cannot have (another SPDY version, a corrupt header block) gets GOAWAY and the connection closes', async () => {
  for (const bad of [Buffer.from([0x80, 0x02, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1]), Buffer.from([0x80, 0x03, 0, 1, 0, 0, 0, 14, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4])]) {
    const [mine, theirs] = await pair();
    const session = new SpdySession(mine, 'server');
    const peer = rawPeer(theirs);
    const closed = new Promise<void>(r => session.once('close', () => r()));
    peer.send(bad);
    await peer.until(f => f.some(x => x.type === 'goAway' && x.status === 1));
    await closed;
  }
});
