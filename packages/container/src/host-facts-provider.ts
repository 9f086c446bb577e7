import { injectable } from 'inversify';
import { StartOrder, type Startable } from '@crikit/core';
import { detectHostFacts, type HostFacts } from './host-facts.js';

/** Detects the host's facts once, at start-up (or on first use, if that comes earlier), and keeps them. */
@injectable()
export class HostFactsProvider implements Startable {
  readonly startName = 'host facts';
  readonly startOrder = StartOrder.services;
  private detected: Promise<HostFacts> | undefined;

  /** The host's facts (detected on the first call). */
  facts(): Promise<HostFacts> {
    this.detected ??= detectHostFacts();
    return this.detected;
  }

  /** Reads the facts (crikitd's bounding set among them) before the first request. */
  async start(): Promise<void> {
    await this.facts();
  }

  async stop(): Promise<void> {}
}
