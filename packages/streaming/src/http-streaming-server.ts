import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { inject, injectable } from 'inversify';
import { WebSocketServer } from 'ws';
import {
  ContainerStreams, InvalidArgumentError, Logger, PortForwarder, StartOrder, UnavailableError,
  type AttachStreamRequest, type ExecStreamRequest, type PortForwardStreamRequest, type Startable, type StreamingServer,
} from '@crikit/core';
import { portForwardProtocol, remoteCommandProtocols, type PendingStream, type RequestedStreams } from './pending-stream.js';
import { selfSignedCert } from './self-signed-cert.js';
import { StreamTokens } from './stream-tokens.js';
import { StreamingConfig } from './streaming-config.js';
import { serveSpdyPortForward } from './spdy/spdy-port-forward.js';
import { serveSpdyRemoteCommand } from './spdy/spdy-remote-command.js';
import { SpdySession } from './spdy/spdy-session.js';
import { acceptSpdy, negotiate, offeredProtocols, refuse } from './spdy/spdy-upgrade.js';
import { serveWsPortForward, wsPortForwardProtocols } from './ws/ws-port-forward.js';
import { serveWsRemoteCommand, wsRemoteCommandProtocols } from './ws/ws-remote-command.js';

const paths = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)$/;

/**
 * The HTTP(S) streaming server behind Exec, Attach and PortForward. Each RPC gets a URL with a
 * one-time token; a client connecting to it upgrades to SPDY/3.1 or WebSocket and is served by
 * ContainerStreams or PortForwarder. A used, expired or unknown token gets 404 and runs nothing.
 */
@injectable()
export class HttpStreamingServer implements StreamingServer, Startable {
  readonly startName = 'streaming server';
  readonly startOrder = StartOrder.services;
  private readonly tokens: StreamTokens<PendingStream>;
  private readonly sockets = new Set<Duplex>();
  private readonly wsRemoteCommand = wsServer(wsRemoteCommandProtocols);
  private readonly wsPortForward = wsServer(wsPortForwardProtocols);
  private server: http.Server | undefined;
  private baseUrl: string | undefined;

  constructor(
    @inject(StreamingConfig) private readonly config: StreamingConfig,
    @inject(ContainerStreams) private readonly streams: ContainerStreams,
    @inject(PortForwarder) private readonly forwarder: PortForwarder,
    @inject(Logger) private readonly log: Logger,
  ) {
    this.tokens = new StreamTokens(config.tokenTtlMs);
  }

  /** The server's base URL (`http://127.0.0.1:40123`) once started. */
  get url(): string | undefined {
    return this.baseUrl;
  }

  async start(signal: AbortSignal): Promise<void> {
    const { address, port, tls } = this.config;
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.onRequest(req, res);
    const server = tls ? https.createServer(await selfSignedCert(address), handler) : http.createServer(handler);
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { server.close(); reject(signal.reason); };
      signal.addEventListener('abort', onAbort, { once: true });
      server.once('error', err => reject(new UnavailableError(`streaming server: listen on ${address}:${port}`, { cause: err })));
      server.listen(port, address, () => { signal.removeEventListener('abort', onAbort); resolve(); });
    });
    const bound = server.address() as AddressInfo;
    const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
    this.server = server;
    this.baseUrl = `${tls ? 'https' : 'http'}://${host}:${bound.port}`;
    this.log.info({ url: this.baseUrl }, 'streaming server listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.baseUrl = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>(resolve => { server.close(() => resolve()); server.closeAllConnections(); });
  }

  getExecUrl(request: ExecStreamRequest): string {
    if (request.cmd.length === 0) throw new InvalidArgumentError('exec: cmd is required');
    checkStreams('exec', request);
    return this.issue({ kind: 'exec', request });
  }

  getAttachUrl(request: AttachStreamRequest): string {
    checkStreams('attach', request);
    return this.issue({ kind: 'attach', request });
  }

  getPortForwardUrl(request: PortForwardStreamRequest): string {
    for (const p of request.port) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new InvalidArgumentError(`portforward: port ${p} is not between 1 and 65535`);
    return this.issue({ kind: 'portforward', request });
  }

  private issue(pending: PendingStream): string {
    if (!this.baseUrl) throw new UnavailableError('the streaming server is not serving');
    return `${this.baseUrl}/${pending.kind}/${this.tokens.issue(pending)}`;
  }

  /** A plain request: the token is used up, but without an upgrade nothing can be served. */
  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const pending = this.take(req);
    res.writeHead(pending ? 400 : 404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(pending ? 'expected an upgrade to SPDY/3.1 or websocket\n' : 'not found\n');
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const pending = this.take(req);
    if (!pending) { refuse(socket, 404, 'not found'); return; }
    this.track(socket);
    const upgrade = (req.headers.upgrade ?? '').toLowerCase();
    if (upgrade === 'websocket') this.serveWebSocket(pending, req, socket, head);
    else if (upgrade === 'spdy/3.1') this.serveSpdy(pending, req, socket, head);
    else refuse(socket, 400, `unsupported upgrade "${req.headers.upgrade}": use SPDY/3.1 or websocket`);
  }

  private serveWebSocket(pending: PendingStream, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const wss = pending.kind === 'portforward' ? this.wsPortForward : this.wsRemoteCommand;
    wss.handleUpgrade(req, socket, head, ws => {
      // ws clears the socket's timeout when it takes the socket over: set the idle timeout again.
      this.idleTimeout(socket);
      // A client breaking the protocol (a bad frame, a message too large) ends its own session only.
      ws.on('error', err => { this.log.info({ err }, 'websocket stream failed'); ws.terminate(); });
      if (pending.kind === 'portforward') {
        const query = new URL(req.url ?? '/', 'http://x').searchParams.getAll('port').map(Number);
        const ports = query.length > 0 ? query : pending.request.port;
        if (ports.length === 0 || ports.some(p => !Number.isInteger(p) || p < 1 || p > 65535)) { ws.close(1008, 'port: one or more ports between 1 and 65535 are required'); return; }
        void serveWsPortForward(ws, ports, pending.request, this.forwarder, this.log);
      } else {
        void serveWsRemoteCommand(ws, socket, pending, this.streams, this.log);
      }
    });
  }

  private serveSpdy(pending: PendingStream, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const supported = pending.kind === 'portforward' ? [portForwardProtocol] : remoteCommandProtocols;
    const offered = offeredProtocols(req);
    const protocol = negotiate(offered, supported);
    if (protocol === undefined) {
      refuse(socket, 403, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${supported.join(' ')}]`,
        { 'X-Accepted-Stream-Protocol-Versions': [...supported] });
      return;
    }
    acceptSpdy(socket, protocol);
    const session = new SpdySession(socket, 'server', head);
    if (pending.kind === 'portforward') serveSpdyPortForward(session, pending.request, this.forwarder, this.log);
    else void serveSpdyRemoteCommand(session, protocol, pending, this.streams, this.config.streamCreationTimeoutMs, this.log);
  }

  private take(req: IncomingMessage): PendingStream | undefined {
    const m = paths.exec(new URL(req.url ?? '/', 'http://x').pathname);
    const pending = m ? this.tokens.take(m[2]!) : undefined;
    return pending && pending.kind === m![1] ? pending : undefined;
  }

  /** Idle timeout and bookkeeping for an upgraded connection, so stop() can close it. */
  private track(socket: Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    this.idleTimeout(socket);
    (socket as Socket).setNoDelay?.(true);
  }

  /** Closes `socket` once nothing has been read or written for idleTimeoutMs. */
  private idleTimeout(socket: Duplex): void {
    (socket as Socket).setTimeout?.(this.config.idleTimeoutMs, () => {
      this.log.info({ idleTimeoutMs: this.config.idleTimeoutMs }, 'streaming connection idle; closing');
      socket.destroy();
    });
  }
}

/** A WebSocket server that only upgrades, choosing the first of the client's subprotocols it knows. */
function wsServer(supported: readonly string[]): WebSocketServer {
  return new WebSocketServer({
    noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024,
    handleProtocols: offered => [...offered].find(p => supported.includes(p)) ?? false,
  });
}

/** CRI: at least one stream must be requested, and a TTY has no separate stderr. */
function checkStreams(kind: string, r: RequestedStreams): void {
  if (!r.stdin && !r.stdout && !r.stderr) throw new InvalidArgumentError(`${kind}: one of stdin, stdout or stderr must be requested`);
  if (r.tty && r.stderr) throw new InvalidArgumentError(`${kind}: tty and stderr cannot both be true`);
}

