import { Duplex, PassThrough } from 'node:stream';
import WebSocket from 'ws';
import { readAll, type StreamTransport } from './remote-command-client.js';
import { spdyUpgrade } from './spdy-remote-command-client.js';

/** One forwarded connection: bytes to and from the port, and what its error stream said. */
export interface ForwardedConnection {
  readonly data: Duplex;
  /** The error stream's text: its first message, or '' when it closed without one (the forward went well). */
  readonly error: Promise<string>;
}

/** A port-forward session on which connections to pod ports are opened. */
export interface PortForwardSession {
  /** Opens a connection to `port` (WebSocket: only the ports given at connect, once each). */
  connect(port: number): ForwardedConnection;
  close(): void;
}

/**
 * Connects to a PortForward URL. SPDY: protocol portforward.k8s.io, a data and an error stream per
 * connection sharing a `requestID`. WebSocket: the ports go in the URL; channel 2i carries port i's
 * data, 2i+1 its errors, each opened by a 2-byte port number.
 */
export async function connectPortForward(url: string, transport: StreamTransport, ports: readonly number[]): Promise<PortForwardSession> {
  if (transport === 'spdy') {
    const { session } = await spdyUpgrade(url, ['portforward.k8s.io']);
    let requestId = 0;
    return {
      connect: port => {
        const headers = { port: String(port), requestid: String(requestId++) };
        const error = session.openStream({ ...headers, streamtype: 'error' });
        error.end();
        const data = session.openStream({ ...headers, streamtype: 'data' });
        data.on('error', () => undefined);
        error.on('error', () => undefined);
        return { data, error: readAll(error).then(b => b.toString(), () => '') };
      },
      close: () => session.destroy(),
    };
  }
  const u = new URL(url.replace(/^http/, 'ws'));
  for (const p of ports) u.searchParams.append('port', String(p));
  const ws = new WebSocket(u, ['v4.channel.k8s.io'], { rejectUnauthorized: false, perMessageDeflate: false });
  const inbound = ports.map(() => ({ data: new PassThrough(), seen: [false, false] }));
  const errors = ports.map(() => { let done!: (s: string) => void; const p = new Promise<string>(r => { done = r; }); return { p, done }; });
  ws.on('message', (msg: Buffer) => {
    const channel = msg[0]!;
    const port = inbound[channel >> 1];
    if (!port) return;
    const kind = channel & 1;
    // The first message on each channel is the port number.
    if (!port.seen[kind]) { port.seen[kind] = true; return; }
    if (kind === 0) port.data.write(msg.subarray(1));
    else errors[channel >> 1]!.done(msg.subarray(1).toString());
  });
  // The kubelet writes a port's error in one message; a port that closes without one went well.
  ws.once('close', () => inbound.forEach((p, i) => { p.data.end(); errors[i]!.done(''); }));
  // The listeners above are in place before the upgrade completes: the port announcements may arrive in the same read.
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => { reject(new Error(`websocket upgrade refused: ${res.statusCode}`)); res.resume(); });
    ws.once('error', reject);
  });
  ws.on('error', () => undefined);
  return {
    connect: port => {
      const i = ports.indexOf(port);
      if (i < 0) throw new Error(`port ${port} was not given at connect`);
      const out = new PassThrough();
      out.on('data', (c: Buffer) => { if (ws.readyState === WebSocket.OPEN) ws.send(Buffer.concat([Buffer.from([2 * i]), c])); });
      return { data: Duplex.from({ readable: inbound[i]!.data, writable: out }), error: errors[i]!.p };
    },
    close: () => ws.close(),
  };
}

