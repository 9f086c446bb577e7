import type { ContainerStreams, Logger } from '@crikit/core';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { RemoteCommandRequest } from '../pending-stream.js';
import { runRemoteCommand } from '../remote-command.js';
import { WsChannels } from './ws-channels.js';

/** Subprotocols of exec and attach over WebSocket, newest first; '' (none offered) is binary v1. */
export const wsRemoteCommandProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io'];

const stdinChannel = 0;
const stdoutChannel = 1;
const stderrChannel = 2;
const errorChannel = 3;
const resizeChannel = 4;

/**
 * Serves one exec or attach over an accepted WebSocket: channels 0 stdin, 1 stdout, 2 stderr,
 * 3 error, 4 resize; the connection (`socket`, under `ws`) closes when the command ends, and the
 * command is cancelled when the client goes first.
 */
export async function serveWsRemoteCommand(ws: WebSocket, socket: Duplex, pending: RemoteCommandRequest, streams: ContainerStreams, log: Logger): Promise<void> {
  const protocol = ws.protocol;
  const channels = new WsChannels(ws, { base64: protocol.includes('base64'), closeSignal: protocol.startsWith('v5.') });
  const gone = new AbortController();
  ws.once('close', () => gone.abort(new Error('client disconnected')));
  const { request } = pending;
  // wsstream: an empty message on the lowest channel the client reads tells it the streams are open.
  channels.send(request.stdout ? stdoutChannel : request.stderr && !request.tty ? stderrChannel : errorChannel, Buffer.alloc(0));
  await runRemoteCommand(pending, {
    protocol: protocol || 'channel.k8s.io',
    stdin: request.stdin ? channels.readable(stdinChannel) : undefined,
    stdout: request.stdout ? channels.writable(stdoutChannel) : undefined,
    stderr: request.stderr && !request.tty ? channels.writable(stderrChannel) : undefined,
    resize: request.tty ? channels.readable(resizeChannel) : undefined,
    writeError: payload => new Promise(resolve => channels.send(errorChannel, payload, () => resolve())),
  }, streams, gone.signal, log);
  // As the kubelet's server: the close frame, then the end of the connection at once. Waiting for the
  // client's close frame first (as ws does) makes every client wait one more round trip for its EOF;
  // the client's close frame can still arrive on the half-closed socket.
  ws.close(1000);
  socket.end();
}
