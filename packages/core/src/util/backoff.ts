/** The longest delay setTimeout honours; a longer one fires at once. */
const maxTimerMs = 2 ** 31 - 1;

/** How the delay between retries grows: from `initialMs`, multiplied by `factor` after each retry, up to `maxMs`. */
export interface BackoffPolicy {
  /** The delay before the first retry, in ms. */
  readonly initialMs: number;
  /** The longest delay, in ms; setTimeout's limit (about 24.8 days) when unset. */
  readonly maxMs?: number;
  /** What each retry multiplies the delay by; 2 when unset. */
  readonly factor?: number;
}

/**
 * The delay before retry number `retry` (1 for the first): initialMs × factor^(retry − 1), at most
 * `maxMs` and never beyond what setTimeout honours. Pure; a retry below 1 counts as the first.
 * @throws RangeError when initialMs is negative or factor is below 1
 */
export function backoffDelay(policy: BackoffPolicy, retry: number): number {
  const { initialMs, factor = 2 } = policy;
  if (!(initialMs >= 0)) throw new RangeError(`backoff: initialMs must be 0 or more, not ${initialMs}`);
  if (!(factor >= 1)) throw new RangeError(`backoff: factor must be 1 or more, not ${factor}`);
  const max = Math.min(policy.maxMs ?? maxTimerMs, maxTimerMs);
  const delay = initialMs * factor ** Math.max(0, Math.floor(retry) - 1);
  return Math.min(Number.isFinite(delay) ? delay : max, max);
}

/**
 * The backoff of one retry loop: `next()` gives the delay before the next retry and counts it,
 * `reset()` starts again from `initialMs` after a success.
 */
export class Backoff {
  private count = 0;

  /** @throws RangeError for a policy backoffDelay refuses */
  constructor(readonly policy: BackoffPolicy) {
    backoffDelay(policy, 1);
  }

  /** Retries counted since the last reset. */
  get retries(): number {
    return this.count;
  }

  /** The delay before the next retry; each call counts one retry. */
  next(): number {
    this.count++;
    return backoffDelay(this.policy, this.count);
  }

  /** Back to the first delay, after an attempt that worked. Idempotent. */
  reset(): void {
    this.count = 0;
  }
}
