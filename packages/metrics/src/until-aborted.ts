import { abortError } from '@crikit/core';

/** `p`, or a rejection with CancelledError / DeadlineExceededError as soon as `signal` fires. */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal, doing: string): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal, doing));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal, doing));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
