import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { RequestFrameFilter } from './request-frame-filter.js';

/**
 * A client connection as the gRPC server sees it when its requests need rewriting: what the client
 * sends passes through `requests` (so any `:authority` is accepted), what the server sends goes to
 * the socket unchanged. `pending` is what the filter already produced. Back-pressure, half-close and
 * errors follow the socket.
 */
export class AuthorityFixingSocket extends Duplex {
  constructor(private readonly socket: Socket, private readonly requests: RequestFrameFilter, pending: readonly Buffer[]) {
    super({ allowHalfOpen: true });
    for (const b of pending) this.push(b);
    socket.on('data', chunk => {
      let more = true;
      for (const b of this.requests.push(chunk)) more = this.push(b) && more;
      if (!more) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', err => this.destroy(err));
    socket.on('close', () => this.destroy());
    socket.resume();
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.socket.write(chunk)) cb();
    else this.socket.once('drain', () => cb());
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    this.socket.cork();
    let more = true;
    for (const { chunk } of chunks) more = this.socket.write(chunk);
    this.socket.uncork();
    if (more) cb();
    else this.socket.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}
