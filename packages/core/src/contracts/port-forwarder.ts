import type { Duplex } from 'node:stream';
import type { SandboxId } from '../ids.js';

/**
 * What the streaming server runs for each port stream of a port-forward session. Implemented by the
 * sandbox package (it owns the netns), used by the streaming package.
 */
export interface PortForwarder {
  /**
   * Copies bytes between `stream` and TCP `port` on localhost inside the pod's network namespace,
   * until either side closes or `signal` fires.
   * @throws NotFoundError when the id is not stored
   * @throws FailedPreconditionError when the sandbox is not ready or has no netns (host network uses the host's)
   * @throws UnavailableError when nothing listens on `port`
   */
  portForward(id: SandboxId, port: number, stream: Duplex, signal: AbortSignal): Promise<void>;
}
export const PortForwarder = Symbol('PortForwarder');
