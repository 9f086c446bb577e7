import { randomBytes } from 'node:crypto';
import { ResourceExhaustedError } from '@crikit/core';

/** At most this many URLs wait to be used at once (containerd's request cache holds as many). */
const maxPending = 1000;

/**
 * One-time tokens for streaming URLs: 32 random bytes, base64url. A token can be taken once, and
 * only before it expires; expired tokens are dropped on every issue and take. Synchronous on purpose.
 */
export class StreamTokens<T> {
  private readonly pending = new Map<string, { readonly value: T; readonly expiresAt: number }>();

  constructor(private readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  /**
   * A new token for `value`.
   * @throws ResourceExhaustedError when too many tokens are pending
   */
  issue(value: T): string {
    this.sweep();
    if (this.pending.size >= maxPending) throw new ResourceExhaustedError(`too many streaming requests pending (${maxPending}); retry later`);
    const token = randomBytes(32).toString('base64url');
    this.pending.set(token, { value, expiresAt: this.now() + this.ttlMs });
    return token;
  }

  /** The value of `token` if it is pending and not expired; the token is used up either way. */
  take(token: string): T | undefined {
    const entry = this.pending.get(token);
    this.pending.delete(token);
    this.sweep();
    return entry && entry.expiresAt > this.now() ? entry.value : undefined;
  }

  /** How many tokens wait to be used. */
  get size(): number {
    return this.pending.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [token, entry] of this.pending) if (entry.expiresAt <= now) this.pending.delete(token);
  }
}
