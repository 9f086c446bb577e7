import type { Readable, Writable } from 'node:stream';
import type { ContainerStreams, Logger, StreamingIo } from '@crikit/core';
import { errorStreamPayload, type ExecOutcome } from './exec-status.js';
import type { RemoteCommandRequest } from './pending-stream.js';
import { terminalSizes } from './terminal-sizes.js';

/** The client's streams of an exec or attach session, whatever the transport. */
export interface RemoteCommandChannels {
  /** The negotiated protocol, e.g. `v4.channel.k8s.io`; decides the error stream's format. */
  readonly protocol: string;
  readonly stdin?: Readable | undefined;
  readonly stdout?: Writable | undefined;
  readonly stderr?: Writable | undefined;
  readonly resize?: Readable | undefined;
  /** Writes the final status on the error stream. */
  writeError(payload: Buffer): Promise<void>;
}

/**
 * Runs an exec or attach through ContainerStreams with the client's streams, then writes how it ended
 * on the error stream (unless the client is gone). Never throws: failures are reported to the client.
 */
export async function runRemoteCommand(
  pending: RemoteCommandRequest, channels: RemoteCommandChannels, streams: ContainerStreams, signal: AbortSignal, log: Logger,
): Promise<void> {
  const { request } = pending;
  const io: StreamingIo = {
    stdin: channels.stdin, stdout: channels.stdout, stderr: request.tty ? undefined : channels.stderr, tty: request.tty,
    resize: request.tty && channels.resize ? terminalSizes(channels.resize) : undefined,
  };
  let outcome: ExecOutcome;
  try {
    if (pending.kind === 'exec') {
      const exitCode = await streams.exec(request.containerId, pending.request.cmd, io, signal);
      outcome = { kind: 'exited', exitCode, cmd: pending.request.cmd };
    } else {
      await streams.attach(request.containerId, io, signal);
      outcome = { kind: 'exited', exitCode: 0, cmd: [] };
    }
  } catch (err) {
    if (signal.aborted) return;
    log.warn({ container: request.containerId, err }, `${pending.kind} stream failed`);
    outcome = { kind: 'error', message: (err as Error).message };
  }
  if (signal.aborted) return;
  const payload = errorStreamPayload(channels.protocol, outcome);
  if (payload) await channels.writeError(payload).catch(() => undefined);
}
