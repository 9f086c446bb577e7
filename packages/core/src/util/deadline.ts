/** A signal with a deadline, and the means to drop its timer once the work is done. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** Clears the timer and detaches from the parents. Idempotent. */
  dispose(): void;
}

/**
 * A signal that aborts when any of `parents` does, or after `ms` with a TimeoutError.
 * Use it instead of `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: Node keeps only weak
 * references to the sources of `AbortSignal.any`, so an `AbortSignal.timeout` nothing else holds can
 * be garbage-collected and never fire (a start-up that should give up after 500 ms hung instead).
 * Here the timer's closure holds the controller strongly.
 */
export function deadline(parents: AbortSignal | readonly AbortSignal[], ms: number): Deadline {
  const sources = Array.isArray(parents) ? parents : [parents as AbortSignal];
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`deadline of ${ms} ms exceeded`, 'TimeoutError')), ms);
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
