import { abortError } from '../errors.js';

interface Attempt<V> {
  readonly fingerprint: string;
  readonly result: Promise<V>;
  waiters: number;
  timer?: NodeJS.Timeout;
}

/**
 * Lets a retried create join the attempt it retries. The kubelet gives up on a slow RunPodSandbox
 * (or CreateContainer) and sends the same request again; the retry must wait for the first
 * attempt and get its result, not fail because the name is reserved. An attempt runs under its
 * own signal, so a caller going away does not undo it; its result is kept for a retry for
 * `keepUncollectedMs` when every caller went away before it finished.
 */
export class JoinableAttempts<V> {
  private readonly byKey = new Map<string, Attempt<V>>();

  /** @param keepUncollectedMs how long a result nobody waited for stays available to a retry */
  constructor(private readonly keepUncollectedMs: number) {}

  /**
   * Runs `work` as the attempt for `key`, or, when an attempt for `key` with the same
   * `fingerprint` (the request) is running or finished uncollected, waits for that one instead.
   * An attempt with another fingerprint is left alone and `work` runs (its name check refuses it).
   * A failed attempt is forgotten at once. `doing` names the call in the error when `signal` fires.
   * @throws what the attempt threw; CancelledError or DeadlineExceededError when `signal` fires first
   */
  run(key: string, fingerprint: string, work: () => Promise<V>, signal: AbortSignal, doing: string): Promise<V> {
    const existing = this.byKey.get(key);
    if (existing?.fingerprint === fingerprint) return this.wait(key, existing, signal, doing);
    if (existing) return work();
    const attempt: Attempt<V> = { fingerprint, result: work(), waiters: 0 };
    this.byKey.set(key, attempt);
    attempt.result.then(() => {
      // Every caller went away: keep the result a while for the retry that will come.
      if (attempt.waiters === 0 && this.byKey.get(key) === attempt) {
        attempt.timer = setTimeout(() => this.forget(key, attempt), this.keepUncollectedMs);
        attempt.timer.unref();
      }
    }, () => this.forget(key, attempt));
    return this.wait(key, attempt, signal, doing);
  }

  /** How many attempts are running or kept. */
  get size(): number {
    return this.byKey.size;
  }

  private async wait(key: string, attempt: Attempt<V>, signal: AbortSignal, doing: string): Promise<V> {
    attempt.waiters++;
    try {
      const value = await untilAborted(attempt.result, signal, doing);
      // Collected: a later identical request is a new one (and the name check answers it).
      this.forget(key, attempt);
      return value;
    } finally {
      attempt.waiters--;
    }
  }

  private forget(key: string, attempt: Attempt<V>): void {
    clearTimeout(attempt.timer);
    if (this.byKey.get(key) === attempt) this.byKey.delete(key);
  }
}

function untilAborted<V>(p: Promise<V>, signal: AbortSignal, doing: string): Promise<V> {
  if (signal.aborted) return Promise.reject(abortError(signal, doing));
  return new Promise<V>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal, doing));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
