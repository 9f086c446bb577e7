/**
 * A service with start-up or shut-down work. Modules bind it under the multi-token `Startable`;
 * the server starts them by ascending `startOrder` and stops them in reverse.
 */
export interface Startable {
  /** A name for logs. */
  readonly startName: string;
  /** Lower starts first: 0 containerd, 10 client, 15 event monitor, 20 stores and recovery, 30 networking, 50 the rest. */
  readonly startOrder: number;
  /** Does the work that can fail; the server refuses to serve until every start resolves. */
  start(signal: AbortSignal): Promise<void>;
  /** Releases what start took. Idempotent; called even if start failed. */
  stop(signal: AbortSignal): Promise<void>;
}
export const Startable = Symbol('Startable');

/** Start orders for the services crikit ships, so embedders can slot theirs in between. */
export const StartOrder = {
  containerd: 0,
  containerdClient: 10,
  events: 15,
  recovery: 20,
  network: 30,
  services: 50,
} as const;
