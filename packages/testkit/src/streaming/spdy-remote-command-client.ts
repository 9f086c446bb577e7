import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { SpdySession, type SpdyStream } from '@crikit/streaming/spdy';
import { outputStreams, parseErrorStream, readAll, type RemoteCommandOptions, type RemoteCommandSession } from './remote-command-client.js';

const defaultProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

/**
 * Upgrades a request to SPDY/3.1 offering `protocols` in X-Stream-Protocol-Version.
 * @throws Error with the status code when the server answers without upgrading
 */
export function spdyUpgrade(url: string, protocols: readonly string[]): Promise<{ session: SpdySession; protocol: string }> {
  const u = new URL(url);
  const request = (u.protocol === 'https:' ? https : http).request(u, {
    method: 'POST', rejectUnauthorized: false,
    headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': [...protocols] },
  });
  return new Promise((resolve, reject) => {
    request.once('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
      (socket as import('node:net').Socket).setNoDelay?.(true);
      resolve({ session: new SpdySession(socket, 'client', head), protocol: String(res.headers['x-stream-protocol-version'] ?? '') });
    });
    request.once('response', res => {
      void readAll(res).then(body => reject(new Error(`spdy upgrade refused: ${res.statusCode} ${body.toString().trim()}`)));
    });
    request.once('error', reject);
    request.end();
  });
}

/**
 * Connects to an exec or attach URL over SPDY/3.1 as client-go's remotecommand does: it opens the
 * error stream, then stdin, stdout, stderr and (v3 and later, with a TTY) resize, by `streamType`.
 */
export async function connectSpdyCommand(url: string, options: RemoteCommandOptions): Promise<RemoteCommandSession> {
  const { session, protocol } = await spdyUpgrade(url, options.protocols ?? defaultProtocols);
  const open = (type: string): SpdyStream => session.openStream({ streamtype: type });
  const error = open('error');
  const stdin = options.stdin ? open('stdin') : undefined;
  const remoteStdout = options.stdout ? open('stdout') : undefined;
  const remoteStderr = options.stderr && !options.tty ? open('stderr') : undefined;
  const resize = options.tty && !['v2.channel.k8s.io', 'channel.k8s.io', ''].includes(protocol) ? open('resize') : undefined;
  for (const s of [error, remoteStdout, remoteStderr]) s?.end();
  const all = [error, stdin, remoteStdout, remoteStderr, resize].filter((s): s is SpdyStream => s !== undefined);
  for (const s of all) s.on('error', () => undefined);
  await Promise.all(all.map(s => s.waitReply()));
  const { stdout, stderr } = outputStreams();
  if (remoteStdout) remoteStdout.pipe(stdout); else stdout.end();
  if (remoteStderr) remoteStderr.pipe(stderr); else stderr.end();
  const ended = (s: SpdyStream | undefined): Promise<void> => new Promise(r => {
    if (!s || s.readableEnded || s.destroyed) { r(); return; }
    s.once('end', () => r());
    s.once('close', () => r());
  });
  const done = (async () => {
    const text = (await readAll(error).catch(() => Buffer.alloc(0))).toString();
    await Promise.all([ended(remoteStdout), ended(remoteStderr)]);
    stdout.end();
    stderr.end();
    session.destroy();
    return parseErrorStream(text);
  })();
  return {
    protocol, stdout, stderr, done,
    writeStdin: data => { stdin?.write(data); },
    closeStdin: () => { stdin?.end(); },
    resize: (width, height) => { resize?.write(JSON.stringify({ Width: width, Height: height })); },
    kill: () => session.destroy(),
  };
}
