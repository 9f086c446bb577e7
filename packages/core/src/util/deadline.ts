/** A signal with a deadline, and the means to drop its timer once the work is done. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** Clears the timer and detaches from the parents. Idempotent. */
  dispose(): void;
}

/** The longest delay setTimeout honours (about 24.8 days); a longer one would fire at once. */
export const maxTimerMs = 2 ** 31 - 1;

/**
 * `ms` made safe for setTimeout: above 2^31-1 (or infinite) becomes 2^31-1, below 0 (or NaN) 0.
 * Every user-supplied duration goes through it (StopContainer and ExecSync timeouts, gRPC deadlines).
 */
export function clampTimerMs(ms: number): number {
  if (Number.isNaN(ms) || ms <= 0) return 0;
  return Math.min(ms, maxTimerMs);
}

/**
 * A signal that aborts when any of `parents` does, or after `ms` with a TimeoutError. `ms` is
 * clamped (see `clampTimerMs`), so a huge timeout waits about 24.8 days instead of firing at once.
 * Use it instead of `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: Node keeps only weak
 * references to the sources of `AbortSignal.any`, so an `AbortSignal.timeout` nothing else holds can
 * be garbage-collected and never fire (a start-up that should give up after 500 ms hung instead).
 * Here the timer's closure holds the controller strongly.
 */
export function deadline(parents: AbortSignal | readonly AbortSignal[], ms: number): Deadline {
  const sources = Array.isArray(parents) ? parents : [parents as AbortSignal];
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`deadline of ${ms} ms exceeded`, 'TimeoutError')), clampTimerMs(ms));
  const listeners = sources.map(source => {
    const onAbort = (): void => controller.abort(source.reason);
    source.addEventListener('abort', onAbort, { once: true });
    return { source, onAbort };
  });
  const dispose = (): void => {
    clearTimeout(timer);
    for (const { source, onAbort } of listeners) source.removeEventListener('abort', onAbort);
  };
  const aborted = sources.find(s => s.aborted);
  if (aborted) controller.abort(aborted.reason);
  controller.signal.addEventListener('abort', dispose, { once: true });
  return { signal: controller.signal, dispose };
}
