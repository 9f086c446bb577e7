import net from 'node:net';
import type { Duplex } from 'node:stream';
import { inject, injectable } from 'inversify';
import {
  abortError, FailedPreconditionError, Logger, RuntimeEventBus, SandboxStore, StartOrder, UnavailableError,
  type PortForwarder, type SandboxId, type SandboxRecord, type Startable,
} from '@crikit/core';
import { DialError, NetnsDialers } from './netns-dialers.js';

/** After one direction of a forwarded connection ended, how long the other may go on. */
const halfCloseMs = 1_000;

/**
 * PortForward into a pod's network namespace. Node cannot switch one of its threads into another
 * netns, so a long-lived helper started with `nsenter --net=<netns>` makes each connection inside
 * the pod and hands the connected socket over (NetnsDialers): no process per connection, and the
 * bytes then flow between the client's stream and that socket in crikitd. A host-network pod's
 * ports are on the host: those are dialled directly. A pod's helper goes when the pod stops.
 */
@injectable()
export class NsenterPortForwarder implements PortForwarder, Startable {
  readonly startName = 'port forwarder';
  readonly startOrder = StartOrder.services;
  private readonly dialers = new NetnsDialers();

  constructor(
    @inject(SandboxStore) private readonly store: SandboxStore,
    @inject(RuntimeEventBus) private readonly bus: RuntimeEventBus,
    @inject(Logger) private readonly log: Logger,
  ) {}

  private readonly onStopped = (record: SandboxRecord): void => {
    if (record.metadata.netnsPath) this.dialers.release(record.metadata.netnsPath);
  };

  async start(): Promise<void> {
    this.bus.events.on('sandbox:stopped', this.onStopped);
  }

  async stop(): Promise<void> {
    this.bus.events.off('sandbox:stopped', this.onStopped);
    this.dialers.close();
  }

  async portForward(id: SandboxId, port: number, stream: Duplex, signal: AbortSignal): Promise<void> {
    const record = this.store.get(id);
    const what = `port forward to port ${port} of pod ${record.metadata.name}`;
    if (record.status.state !== 'ready') throw new FailedPreconditionError(`${what}: the sandbox is not ready`);
    if (signal.aborted) throw abortError(signal, what);
    const netns = record.metadata.netnsPath;
    let socket: net.Socket;
    try {
      socket = netns ? await this.dialers.dial(netns, port, signal) : await dialHost(port);
    } catch (err) {
      if (signal.aborted) throw abortError(signal, what);
      const reason = err instanceof DialError ? err.message : (err as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'connection refused' : (err as Error).message;
      this.log.debug({ sandbox: id, port, err }, 'port forward: dial failed');
      throw new UnavailableError(`${what}: ${reason}`, { cause: err });
    }
    return copyUntilClosed(socket, stream, signal, what);
  }
}

/** Connects to `port` on the host's loopback. */
function dialHost(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.off('error', reject); resolve(socket); });
    socket.once('error', reject);
  });
}

/**
 * Copies both ways between a connected socket and the client's stream until the socket closes.
 * containerd's CRI: once one direction has ended, the other gets one more second.
 */
function copyUntilClosed(socket: net.Socket, stream: Duplex, signal: AbortSignal, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => { socket.destroy(); };
    signal.addEventListener('abort', onAbort, { once: true });
    stream.pipe(socket);
    socket.pipe(stream);
    const lastSecond = (): void => { setTimeout(() => socket.destroy(), halfCloseMs).unref(); };
    stream.once('end', lastSecond);
    socket.once('end', lastSecond);
    socket.on('error', () => socket.destroy());
    stream.on('error', () => socket.destroy());
    stream.once('close', () => socket.destroy());
    socket.once('close', () => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) reject(abortError(signal, what));
      else resolve();
    });
  });
}
