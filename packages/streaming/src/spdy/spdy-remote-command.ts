import type { ContainerStreams, Logger } from '@crikit/core';
import type { RemoteCommandRequest } from '../pending-stream.js';
import { runRemoteCommand } from '../remote-command.js';
import type { SpdySession } from './spdy-session.js';
import type { SpdyStream } from './spdy-stream.js';

type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';
const streamTypes: readonly string[] = ['error', 'stdin', 'stdout', 'stderr', 'resize'];

/**
 * Serves one exec or attach over a SPDY session as the kubelet does: the client opens one stream per
 * channel (header `streamType`: error, stdin, stdout, stderr, and resize from v3 on with a TTY);
 * once all it asked for are there the command runs; its status goes on the error stream; then
 * GOAWAY. A client that does not open its streams within `creationTimeoutMs` is dropped.
 */
export async function serveSpdyRemoteCommand(
  session: SpdySession, protocol: string, pending: RemoteCommandRequest, streams: ContainerStreams, creationTimeoutMs: number, log: Logger,
): Promise<void> {
  const { request } = pending;
  const resize = request.tty && !['v2.channel.k8s.io', 'channel.k8s.io', ''].includes(protocol);
  const expected = 1 + Number(request.stdin) + Number(request.stdout) + Number(request.stderr && !request.tty) + Number(resize);
  const gone = new AbortController();
  session.once('close', () => gone.abort(new Error('client disconnected')));
  const got = new Map<StreamType, SpdyStream>();
  const ready = new Promise<boolean>(resolve => {
    const timer = setTimeout(() => resolve(false), creationTimeoutMs);
    session.once('close', () => { clearTimeout(timer); resolve(false); });
    session.on('stream', stream => {
      const type = (stream.headers.streamtype ?? '').toLowerCase();
      if (!streamTypes.includes(type) || got.has(type as StreamType)) { stream.reset(1); return; }
      stream.reply();
      got.set(type as StreamType, stream);
      if (got.size === expected) { clearTimeout(timer); resolve(true); }
    });
  });
  if (!(await ready) || !got.has('error')) {
    log.info({ container: request.containerId, streams: [...got.keys()] }, `${pending.kind}: the client did not open its streams in time`);
    session.destroy();
    return;
  }
  const error = got.get('error')!;
  await runRemoteCommand(pending, {
    protocol: protocol || 'channel.k8s.io',
    stdin: got.get('stdin'), stdout: got.get('stdout'), stderr: got.get('stderr'), resize: got.get('resize'),
    writeError: payload => new Promise(resolve => error.write(payload, () => resolve())),
  }, streams, gone.signal, log);
  for (const type of ['stdout', 'stderr', 'error'] as const) got.get(type)?.end();
  for (const type of ['stdin', 'resize'] as const) got.get(type)?.resume();
  session.goAway();
  // The client closes the connection once it has read everything; do not wait on it forever.
  setTimeout(() => session.destroy(), 5_000).unref();
}
