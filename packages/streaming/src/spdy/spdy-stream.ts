import { Duplex } from 'node:stream';
import type { SpdyHeaders } from './spdy-header-codec.js';

/** What a stream needs from its session: frame writes and flow-control bookkeeping. */
export interface SpdyStreamHost {
  /** Sends `data` on the stream (split into frames, within the send window); `done` once written out. */
  sendData(stream: SpdyStream, data: Buffer, fin: boolean, done: (err?: Error | null) => void): void;
  sendReply(stream: SpdyStream, headers: SpdyHeaders): void;
  sendReset(stream: SpdyStream, status: number): void;
  /** The application read `bytes` of the stream's data: the peer may send that much more. */
  consumed(stream: SpdyStream, bytes: number): void;
  /** The stream is closed both ways or was reset: forget it. */
  forget(stream: SpdyStream): void;
}

/**
 * One SPDY stream as a Duplex: what the peer sends is read, what is written goes out as DATA frames,
 * `end()` sends FIN (a half-close, as closing stdin does), `reset()` sends RST_STREAM.
 */
export class SpdyStream extends Duplex {
  /** Set when the peer reset the stream or the session went away before it ended. */
  aborted = false;
  private replied = false;
  private paused = false;
  private finReceived = false;
  private readonly replyWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];

  constructor(
    /** The stream id: odd when the client opened it, even when the server did. */
    readonly id: number,
    /** The SYN_STREAM headers, names lowercased (`streamtype`, `port`, `requestid`). */
    readonly headers: Readonly<Record<string, string>>,
    private readonly host: SpdyStreamHost,
    /** Called when reading wants more after `receive` saw a full buffer (the session resumes the socket). */
    private readonly onDrained: () => void,
  ) {
    super({ allowHalfOpen: true, highWaterMark: 64 * 1024 });
    this.once('close', () => host.forget(this));
  }

  /** Accepts a stream the peer opened (SYN_REPLY). Idempotent. */
  reply(headers: SpdyHeaders = {}): void {
    if (this.replied || this.destroyed) return;
    this.replied = true;
    this.host.sendReply(this, headers);
  }

  /** Resolves when the peer accepted a stream we opened; rejects if it reset it or the session ended. */
  waitReply(): Promise<void> {
    if (this.replied) return Promise.resolve();
    if (this.destroyed) return Promise.reject(new Error(`spdy stream ${this.id} closed before its reply`));
    return new Promise((resolve, reject) => this.replyWaiters.push({ resolve, reject }));
  }

  /** Refuses or abandons the stream (RST_STREAM, CANCEL by default). */
  reset(status = 5): void {
    if (this.destroyed) return;
    this.host.sendReset(this, status);
    this.destroy();
  }

  /** Session side: the peer's SYN_REPLY arrived. */
  receiveReply(): void {
    this.replied = true;
    for (const w of this.replyWaiters.splice(0)) w.resolve();
  }

  /** Session side: data from the peer. Returns false when the reader is full (the session pauses the socket). */
  receive(data: Buffer, fin: boolean): boolean {
    if (this.readableEnded || this.destroyed) return true;
    let more = true;
    if (data.length > 0) {
      more = this.push(data);
      this.host.consumed(this, data.length);
    }
    if (fin) { this.finReceived = true; this.push(null); }
    if (!more) this.paused = true;
    return more;
  }

  /**
   * Session side: the peer reset the stream (RST_STREAM) or the session is gone. As in spdystream,
   * reading then ends: what arrived stays readable (the kubelet resets the error stream right after
   * writing the status), and nothing more is sent.
   */
  abort(): void {
    for (const w of this.replyWaiters.splice(0)) w.reject(new Error(`spdy stream ${this.id} was reset`));
    if (this.aborted || this.destroyed) return;
    this.aborted = true;
    if (!this.finReceived) {
      this.finReceived = true;
      this.push(null);
    }
    if (this.readableEnded) this.destroy();
    else this.once('end', () => this.destroy());
  }

  override _read(): void {
    if (this.paused) {
      this.paused = false;
      this.onDrained();
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.aborted) { cb(); return; }
    this.host.sendData(this, chunk, false, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.aborted) { cb(); return; }
    this.host.sendData(this, Buffer.alloc(0), true, cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    for (const w of this.replyWaiters.splice(0)) w.reject(err ?? new Error(`spdy stream ${this.id} closed`));
    cb(err);
  }
}
