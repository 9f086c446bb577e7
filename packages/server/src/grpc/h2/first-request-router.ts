import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AuthorityFixingSocket } from './authority-fixing-socket.js';
import { RequestFrameFilter } from './request-frame-filter.js';

/** An empty SETTINGS frame: a valid server connection preface that leaves every setting at its default. */
const emptySettings = Buffer.from([0, 0, 0, 0x4, 0, 0, 0, 0, 0]);
/** Bytes a router holds at most before it stops waiting and filters the connection. */
const maxHeldBytes = 512 * 1024;

/**
 * Decides, from a connection's first request, whether the gRPC server can have the socket itself.
 *
 * A gRPC client sends its first request only after the server's connection preface, so crikit sends
 * one of its own at once, an empty SETTINGS (every setting at the default, which Node's server keeps
 * too), and reads the client's bytes through a {@link RequestFrameFilter} until the first request
 * header block is complete and the client has acknowledged that SETTINGS. If that request's authority
 * was acceptable, the filter's output (the client's bytes less that ACK) goes back into the socket and
 * the socket itself goes to the server: from then on Node's HTTP/2 layer reads and writes it natively,
 * at no cost. The server then sends its own SETTINGS, which the client acknowledges in turn, so each
 * side sees one ACK per SETTINGS it sent. Otherwise (the socket path as authority, none, a PING to
 * answer, broken frames) the connection stays behind the filter for its life, as an
 * {@link AuthorityFixingSocket}. A connection whose first request was acceptable is not watched
 * afterwards: gRPC clients use one authority per connection.
 */
export class FirstRequestRouter {
  private readonly filter = new RequestFrameFilter();
  private readonly held: Buffer[] = [];
  private heldBytes = 0;

  /** Starts routing `socket`; `serve` receives the socket, or the filtered stream, once decided. */
  static route(socket: Socket, serve: (connection: Duplex) => void): void {
    new FirstRequestRouter(socket, serve).start();
  }

  private constructor(private readonly socket: Socket, private readonly serve: (connection: Duplex) => void) {}

  private readonly onData = (chunk: Buffer): void => {
    for (const b of this.filter.push(chunk)) {
      this.held.push(b);
      this.heldBytes += b.length;
    }
    if (this.filter.mustFilter || this.heldBytes > maxHeldBytes || this.filter.headerBlocks > 1) this.hand('filtered');
    else if (this.filter.headerBlocks === 1 && this.filter.settingsAcked) this.hand('native');
  };

  private readonly onGone = (): void => { this.socket.destroy(); };

  private start(): void {
    this.socket.on('data', this.onData);
    this.socket.on('error', this.onGone);
    this.socket.on('end', this.onGone);
    this.socket.write(emptySettings);
  }

  private hand(how: 'native' | 'filtered'): void {
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onGone);
    this.socket.off('end', this.onGone);
    if (how === 'filtered') {
      this.serve(new AuthorityFixingSocket(this.socket, this.filter, this.held));
      return;
    }
    this.socket.pause();
    // Node's HTTP/2 session reads what is already buffered on the socket before reading it natively.
    this.socket.unshift(Buffer.concat(this.held));
    this.serve(this.socket);
  }
}
