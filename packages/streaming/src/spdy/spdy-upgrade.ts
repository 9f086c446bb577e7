import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** The header clients list their protocol versions in, and the server answers with its choice. */
export const protocolHeader = 'x-stream-protocol-version';

/** The protocols a request offers, in its order (repeated headers or comma-separated values). */
export function offeredProtocols(req: IncomingMessage): string[] {
  const raw = req.headersDistinct[protocolHeader] ?? [];
  return raw.flatMap(v => v.split(',')).map(v => v.trim()).filter(Boolean);
}

/**
 * Picks the first offered protocol the server supports, as k8s.io/apimachinery httpstream.Handshake
 * does; '' when the client offered none (legacy clients); undefined when none matches.
 */
export function negotiate(offered: readonly string[], supported: readonly string[]): string | undefined {
  if (offered.length === 0) return '';
  return offered.find(p => supported.includes(p));
}

/** Answers a refused handshake with `status` and a plain-text reason, then closes the socket. */
export function refuse(socket: Duplex, status: number, reason: string, headers: Record<string, string | string[]> = {}): void {
  const text = `${reason}\n`;
  const lines = [`HTTP/1.1 ${status} ${statusText[status] ?? 'Error'}`, 'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(text)}`, 'Connection: close'];
  for (const [k, v] of Object.entries(headers)) for (const one of [v].flat()) lines.push(`${k}: ${one}`);
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
}

/** Switches the connection to SPDY/3.1 (101), naming the negotiated protocol when there is one. */
export function acceptSpdy(socket: Duplex, protocol: string): void {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: SPDY/3.1'];
  if (protocol) lines.push(`X-Stream-Protocol-Version: ${protocol}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
}

const statusText: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };
