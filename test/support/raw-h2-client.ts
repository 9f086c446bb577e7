import net from 'node:net';
import hpack from 'hpack.js';

/** HTTP/2 frame types (RFC 9113 §6). */
export const FrameType = { DATA: 0x0, HEADERS: 0x1, RST_STREAM: 0x3, SETTINGS: 0x4, PING: 0x6, GOAWAY: 0x7, CONTINUATION: 0x9 } as const;
export const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** One frame as read off the wire. */
export interface Frame { type: number; flags: number; streamId: number; payload: Buffer }

/** What the server answered on one stream. */
export interface H2Response {
  headers: Record<string, string>;
  trailers: Record<string, string>;
  body: Buffer;
  /** The RST_STREAM error code, when the server reset the stream. */
  rstCode?: number;
}

/** Encodes one frame. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** A gRPC length-prefixed message (uncompressed). */
export function grpcMessage(bytes: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

/**
 * A hand-driven HTTP/2 client for tests that need to send what ordinary clients never would: any
 * `:authority` (or none), raw frames, broken frames. Its HPACK encoder indexes like a real client
 * (so later requests refer to the dynamic table), and it decodes the server's header blocks.
 */
export class RawH2Client {
  private readonly sock: net.Socket;
  private readonly encoder = hpack.compressor.create({ table: { maxSize: 4096 } });
  private readonly decoder = hpack.decompressor.create({ table: { maxSize: 4096 } });
  private buf = Buffer.alloc(0);
  private readonly frames: Frame[] = [];
  private readonly waiters = new Set<() => void>();
  private nextStream = 1;
  /** Resolves when the server closes the connection. */
  readonly closed: Promise<void>;

  private constructor(socket: string, sendPreface: boolean) {
    this.sock = net.connect(socket);
    this.sock.on('error', () => { /* seen as close */ });
    this.closed = new Promise(resolve => this.sock.once('close', () => { resolve(); this.wake(); }));
    this.sock.on('data', chunk => this.onData(chunk));
    if (sendPreface) this.sock.write(Buffer.concat([preface, frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(0))]));
  }

  /** Connects and sends the client preface (unless `sendPreface` is false). */
  static connect(socket: string, sendPreface = true): RawH2Client {
    return new RawH2Client(socket, sendPreface);
  }

  /** Writes bytes as they are. */
  sendRaw(bytes: Buffer): void {
    this.sock.write(bytes);
  }

  /** HPACK-encodes `headers` with this connection's encoder. */
  encodeHeaders(headers: [string, string][]): Buffer {
    this.encoder.write(headers.map(([name, value]) => ({ name, value })));
    return this.encoder.read() ?? Buffer.alloc(0);
  }

  /** Sends a unary gRPC call with these request headers and waits for its answer. */
  async unary(path: string, authority: string | undefined, message: Uint8Array): Promise<H2Response> {
    const headers: [string, string][] = [[':method', 'POST'], [':scheme', 'http'], [':path', path]];
    if (authority !== undefined) headers.push([':authority', authority]);
    headers.push(['content-type', 'application/grpc'], ['te', 'trailers']);
    const id = this.nextStream;
    this.nextStream += 2;
    // DATA in frames of at most 16 KiB (the default SETTINGS_MAX_FRAME_SIZE); no flow control, so keep
    // a message under the initial 64 KiB window.
    const body = grpcMessage(message);
    const frames = [frame(FrameType.HEADERS, 0x4, id, this.encodeHeaders(headers))];
    for (let off = 0; off < body.length; off += 16_384) {
      frames.push(frame(FrameType.DATA, off + 16_384 >= body.length ? 0x1 : 0x0, id, body.subarray(off, off + 16_384)));
    }
    this.sendRaw(Buffer.concat(frames));
    return this.response(id);
  }

  /** Collects the answer on `streamId` until it ends, is reset, or the connection closes. */
  async response(streamId: number): Promise<H2Response> {
    const res: H2Response = { headers: {}, trailers: {}, body: Buffer.alloc(0) };
    let gotHeaders = false;
    for (;;) {
      const f = await this.next(g => g.streamId === streamId);
      if (!f) throw new Error(`connection closed before stream ${streamId} ended`);
      if (f.type === FrameType.RST_STREAM) return { ...res, rstCode: f.payload.readUInt32BE(0) };
      if (f.type === FrameType.HEADERS) {
        const h = this.decode(f.payload);
        if (gotHeaders) Object.assign(res.trailers, h); else Object.assign(res.headers, h);
        gotHeaders = true;
      } else if (f.type === FrameType.DATA) {
        res.body = Buffer.concat([res.body, f.payload]);
      }
      if (f.flags & 0x1) return res;
    }
  }

  /** The error code of the server's GOAWAY, or undefined if it closed without one. */
  async goaway(): Promise<number | undefined> {
    const f = await this.next(g => g.type === FrameType.GOAWAY);
    return f?.payload.readUInt32BE(4);
  }

  /** Closes the connection. */
  close(): void {
    this.sock.destroy();
  }

  private decode(block: Buffer): Record<string, string> {
    this.decoder.write(block);
    this.decoder.execute();
    const out: Record<string, string> = {};
    for (let h = this.decoder.read(); h; h = this.decoder.read()) out[h.name] = h.value;
    return out;
  }

  // The first unconsumed frame matching `match`, waiting for it; undefined once the connection closed.
  private async next(match: (f: Frame) => boolean): Promise<Frame | undefined> {
    for (;;) {
      const i = this.frames.findIndex(match);
      if (i >= 0) return this.frames.splice(i, 1)[0];
      if (this.sock.destroyed) return undefined;
      await new Promise<void>(resolve => { this.waiters.add(resolve); });
    }
  }

  private onData(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 9) {
      const len = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + len) break;
      const f: Frame = { type: this.buf[3]!, flags: this.buf[4]!, streamId: this.buf.readUInt32BE(5) & 0x7fffffff, payload: this.buf.subarray(9, 9 + len) };
      this.buf = this.buf.subarray(9 + len);
      if (f.type === FrameType.SETTINGS && !(f.flags & 0x1)) this.sendRaw(frame(FrameType.SETTINGS, 0x1, 0, Buffer.alloc(0)));
      else this.frames.push(f);
    }
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters) w();
    this.waiters.clear();
  }
}
