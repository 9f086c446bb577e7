import { injectable } from 'inversify';
import { detectHostFacts, type HostFacts } from './host-facts.js';

/** Detects the host's facts once, on first use, and keeps them. */
@injectable()
export class HostFactsProvider {
  private detected: Promise<HostFacts> | undefined;

  /** The host's facts (detected on the first call). */
  facts(): Promise<HostFacts> {
    this.detected ??= detectHostFacts();
    return this.detected;
  }
}
