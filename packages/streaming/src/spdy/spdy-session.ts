import type { Duplex } from 'node:stream';
import { EventEmitter } from 'eventemitter3';
import { SpdyFrameReader, SpdyFrameWriter, RstStatus, settingsInitialWindowSize, type SpdyFrame } from './spdy-frames.js';
import { SpdyHeaderCompressor, SpdyHeaderDecompressor, type SpdyHeaders } from './spdy-header-codec.js';
import { SpdyStream, type SpdyStreamHost } from './spdy-stream.js';

/** SPDY/3.1's initial stream and session window. */
const defaultWindow = 64 * 1024;
/** The largest DATA frame we send. */
const maxDataFrame = 32 * 1024;

/** What a session reports. */
export interface SpdySessionEvents {
  /** The peer opened a stream; call `reply()` to accept it or `reset()` to refuse it. */
  stream: [stream: SpdyStream];
  /** The peer sent GOAWAY. */
  goAway: [lastGoodStreamId: number];
  /** The connection is gone; every open stream was aborted. */
  close: [];
}

/** Who opened the connection: the server's streams have even ids, the client's odd ones. */
export type SpdyRole = 'server' | 'client';

/**
 * A SPDY/3.1 session over an upgraded connection, as github.com/moby/spdystream speaks it: streams
 * opened by either side, one header compression context per direction, PING answered, GOAWAY,
 * RST_STREAM, and flow control once the peer shows it does flow control (a SETTINGS initial window or
 * a WINDOW_UPDATE): then its windows are honoured and ours reopened with WINDOW_UPDATE as data is
 * read. spdystream does none, so against it both directions are bounded by TCP backpressure alone.
 */
export class SpdySession extends EventEmitter<SpdySessionEvents> implements SpdyStreamHost {
  private readonly writer = new SpdyFrameWriter(new SpdyHeaderCompressor());
  private readonly reader = new SpdyFrameReader(new SpdyHeaderDecompressor());
  private readonly streams = new Map<number, SpdyStream>();
  private readonly pings = new Map<number, () => void>();
  private readonly sendWindows = new Map<number, number>();
  private readonly blocked: (() => void)[] = [];
  private readonly unacked = new Map<number, number>();
  private nextStreamId: number;
  private nextPingId: number;
  private lastPeerStreamId = 0;
  /** Whether writes are held until the end of this tick (corkThisTick). */
  private corked = false;
  private initialSendWindow = defaultWindow;
  private sessionSendWindow = defaultWindow;
  private peerFlowControl = false;
  private goingAway = false;
  private closed = false;

  constructor(private readonly socket: Duplex, readonly role: SpdyRole, head?: Buffer) {
    super();
    this.nextStreamId = role === 'client' ? 1 : 2;
    this.nextPingId = role === 'client' ? 1 : 2;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.unblock());
    socket.once('close', () => this.onClose());
    socket.on('error', () => socket.destroy());
    socket.once('end', () => socket.end());
    if (head && head.length > 0) queueMicrotask(() => this.onData(head));
  }

  /** Whether the connection is gone. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Opens a stream (SYN_STREAM); wait for `stream.waitReply()` before relying on the peer. */
  openStream(headers: SpdyHeaders): SpdyStream {
    if (this.closed || this.goingAway) throw new Error('spdy session is closing');
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = this.track(id, headers);
    this.write(this.writer.synStream(id, headers));
    return stream;
  }

  /** Round trip of a PING, in ms. */
  ping(): Promise<number> {
    const id = this.nextPingId;
    this.nextPingId += 2;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      if (this.closed) { reject(new Error('spdy session closed')); return; }
      this.pings.set(id, () => resolve(performance.now() - started));
      this.write(this.writer.ping(id));
    });
  }

  /** Sends GOAWAY (no new streams), then closes the connection once every stream has closed. */
  goAway(): void {
    if (this.closed || this.goingAway) return;
    this.goingAway = true;
    this.write(this.writer.goAway(this.lastPeerStreamId, 0));
    this.closeWhenIdle();
  }

  /** Closes the connection now; open streams are aborted. Idempotent. */
  destroy(): void {
    this.socket.destroy();
  }

  sendData(stream: SpdyStream, data: Buffer, fin: boolean, done: (err?: Error | null) => void): void {
    let offset = 0;
    const next = (): void => {
      // The peer is gone: what is still written is dropped, and the stream goes with the session.
      if (this.closed) { done(); stream.destroy(); return; }
      for (;;) {
        const remaining = data.length - offset;
        if (remaining === 0 && !fin) break;
        let size = Math.min(maxDataFrame, remaining);
        if (this.peerFlowControl && size > 0) {
          const streamWindow = this.sendWindows.get(stream.id) ?? this.initialSendWindow;
          const window = Math.min(streamWindow, this.sessionSendWindow);
          if (window <= 0) { this.blocked.push(next); return; }
          size = Math.min(size, window);
          this.sendWindows.set(stream.id, streamWindow - size);
          this.sessionSendWindow -= size;
        }
        const last = fin && size === remaining;
        this.corkThisTick();
        this.socket.write(this.writer.data(stream.id, data.subarray(offset, offset + size), last));
        offset += size;
        if (last) break;
      }
      if (this.socket.writableNeedDrain) this.blocked.push(() => done());
      else done();
    };
    next();
  }

  sendReply(stream: SpdyStream, headers: SpdyHeaders): void {
    this.write(this.writer.synReply(stream.id, headers));
  }

  sendReset(stream: SpdyStream, status: number): void {
    this.write(this.writer.rstStream(stream.id, status));
    this.forget(stream);
  }

  consumed(stream: SpdyStream, bytes: number): void {
    // Only to a peer that does flow control: spdystream never reads a frame once it closes, and a
    // WINDOW_UPDATE arriving then makes its kernel reset the connection, which throws away whatever
    // of its output we had not read yet.
    if (!this.peerFlowControl) return;
    // Reopen the peer's windows once half of one is used, stream and session alike (SPDY/3.1 §2.6.8).
    for (const id of [stream.id, 0]) {
      const n = (this.unacked.get(id) ?? 0) + bytes;
      if (n >= defaultWindow / 2) {
        this.write(this.writer.windowUpdate(id, n));
        this.unacked.set(id, 0);
      } else {
        this.unacked.set(id, n);
      }
    }
  }

  forget(stream: SpdyStream): void {
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    this.sendWindows.delete(stream.id);
    this.unacked.delete(stream.id);
    if (this.goingAway) this.closeWhenIdle();
  }

  private track(id: number, headers: Record<string, string>): SpdyStream {
    const stream = new SpdyStream(id, headers, this, () => this.socket.resume());
    this.streams.set(id, stream);
    return stream;
  }

  private onData(chunk: Buffer): void {
    try {
      for (const frame of this.reader.push(chunk)) this.handle(frame);
    } catch {
      // A frame we cannot read (or handle) ends the session, never the process.
      this.write(this.writer.goAway(this.lastPeerStreamId, 1));
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1_000).unref();
    }
  }

  private handle(frame: SpdyFrame): void {
    switch (frame.type) {
      case 'synStream': {
        const ours = frame.streamId % 2 === (this.role === 'client' ? 1 : 0);
        if (this.goingAway || ours || frame.streamId <= this.lastPeerStreamId || frame.streamId === 0) {
          this.write(this.writer.rstStream(frame.streamId, this.goingAway ? RstStatus.refusedStream : RstStatus.protocolError));
          return;
        }
        this.lastPeerStreamId = frame.streamId;
        const stream = this.track(frame.streamId, frame.headers);
        if (frame.fin) stream.receive(Buffer.alloc(0), true);
        if (frame.unidirectional) stream.end();
        this.emit('stream', stream);
        return;
      }
      case 'synReply': this.streams.get(frame.streamId)?.receiveReply(); if (frame.fin) this.streams.get(frame.streamId)?.receive(Buffer.alloc(0), true); return;
      case 'headers': if (frame.fin) this.streams.get(frame.streamId)?.receive(Buffer.alloc(0), true); return;
      case 'data': {
        const stream = this.streams.get(frame.streamId);
        if (!stream) return;
        if (!stream.receive(frame.data, frame.fin)) this.socket.pause();
        return;
      }
      case 'rstStream': {
        // The stream is over for the session at once; what it received stays readable to the application.
        const stream = this.streams.get(frame.streamId);
        if (!stream) return;
        this.streams.delete(frame.streamId);
        stream.abort();
        if (this.goingAway) this.closeWhenIdle();
        return;
      }
      case 'settings':
        for (const e of frame.entries) {
          if (e.id !== settingsInitialWindowSize) continue;
          // SPDY/3.1: a new initial window changes every open stream's window by the difference.
          const delta = e.value - this.initialSendWindow;
          this.initialSendWindow = e.value;
          for (const [id, w] of this.sendWindows) this.sendWindows.set(id, w + delta);
          this.peerFlowControl = true;
        }
        this.unblock();
        return;
      case 'windowUpdate':
        this.peerFlowControl = true;
        if (frame.streamId === 0) this.sessionSendWindow += frame.delta;
        else this.sendWindows.set(frame.streamId, (this.sendWindows.get(frame.streamId) ?? this.initialSendWindow) + frame.delta);
        this.unblock();
        return;
      case 'ping':
        // Our own pings come back with our parity; the peer's are echoed.
        if (frame.id % 2 === this.nextPingId % 2) { this.pings.get(frame.id)?.(); this.pings.delete(frame.id); } else this.write(this.writer.ping(frame.id));
        return;
      case 'goAway':
        this.goingAway = true;
        this.emit('goAway', frame.lastGoodStreamId);
        this.closeWhenIdle();
        return;
      case 'unknown': return;
    }
  }

  private write(frame: Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    this.corkThisTick();
    this.socket.write(frame);
  }

  /**
   * Holds the socket's writes until the end of this tick, so that frames made together (the replies to
   * streams opened in one packet, a last data frame and its FIN, the status and GOAWAY) leave in one
   * system call rather than one each.
   */
  private corkThisTick(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }

  private unblock(): void {
    for (const resume of this.blocked.splice(0)) resume();
  }

  private closeWhenIdle(): void {
    if (this.streams.size === 0 && !this.closed) this.socket.end();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of [...this.streams.values()]) stream.abort();
    this.streams.clear();
    for (const resume of this.blocked.splice(0)) resume();
    this.pings.clear();
    this.emit('close');
  }
}
