import type { Container } from 'inversify';
import { deadline, Startable, type Logger } from '@crikit/core';
import { CriGrpcServer } from './cri-grpc-server.js';
import type { CriConfig } from './cri-config.js';
import { ReadinessGate } from './grpc/rpc-wrapper.js';

/**
 * A composed crikit: the DI container plus start and stop in the right order.
 * start: bind the socket (calls get UNAVAILABLE) → start every Startable by order → open the gate.
 * stop: close the socket after in-flight calls drain → stop Startables in reverse → remove the socket.
 */
export class CriRuntime {
  private started: Startable[] = [];

  constructor(readonly container: Container, readonly config: CriConfig, private readonly log: Logger) {}

  /** The CRI socket path. */
  get socket(): string {
    return this.config.server.socket;
  }

  /**
   * Starts serving. On failure everything started so far is stopped again.
   * @throws FailedPreconditionError when another runtime serves the socket; whatever a Startable throws
   */
  async start(signal: AbortSignal): Promise<void> {
    const server = this.container.get(CriGrpcServer);
    await server.listen();
    const startables = this.container.isBound(Startable) ? this.container.getAll<Startable>(Startable) : [];
    try {
      for (const s of [...startables].sort((a, b) => a.startOrder - b.startOrder)) {
        this.log.debug({ service: s.startName }, 'starting');
        this.started.push(s);
        await s.start(signal);
      }
    } catch (err) {
      await this.stop(AbortSignal.timeout(this.config.server.shutdownTimeoutMs));
      throw err;
    }
    this.container.get(ReadinessGate).open();
    this.log.info({ socket: this.socket }, 'crikit ready');
  }

  /** Drains and stops. Idempotent; never throws (failures are logged). */
  async stop(signal: AbortSignal): Promise<void> {
    const server = this.container.get(CriGrpcServer);
    const limit = deadline(signal, this.config.server.shutdownTimeoutMs);
    await server.shutdown(limit.signal).finally(() => limit.dispose());
    this.container.get(ReadinessGate).close();
    for (const s of this.started.reverse()) {
      try {
        await s.stop(signal);
      } catch (err) {
        this.log.warn({ service: s.startName, err }, 'stop failed');
      }
    }
    this.started = [];
  }
}
