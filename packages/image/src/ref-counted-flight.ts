import { abortError } from '@crikit/core';

interface Flight<V> {
  readonly controller: AbortController;
  readonly promise: Promise<V>;
  waiters: number;
}

/**
 * Shares one run per key among concurrent callers (ten PullImage calls for one image make one
 * pull). Each caller may give up on its own; the run itself is cancelled only when every caller
 * waiting for it has given up.
 */
export class RefCountedFlight<K, V> {
  private readonly flights = new Map<K, Flight<V>>();

  /** Joins the run for `key`, starting `fn` with a signal of its own when none is under way. */
  do(key: K, signal: AbortSignal, doing: string, fn: (signal: AbortSignal) => Promise<V>): Promise<V> {
    if (signal.aborted) return Promise.reject(abortError(signal, doing));
    let flight = this.flights.get(key);
    if (!flight) {
      const controller = new AbortController();
      const promise = fn(controller.signal).finally(() => this.flights.delete(key));
      flight = { controller, promise, waiters: 0 };
      this.flights.set(key, flight);
    }
    const f = flight;
    f.waiters++;
    return new Promise<V>((resolve, reject) => {
      const onAbort = (): void => {
        if (--f.waiters === 0) f.controller.abort(signal.reason);
        reject(abortError(signal, doing));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      f.promise.then(resolve, reject).finally(() => {
        signal.removeEventListener('abort', onAbort);
        if (!signal.aborted) f.waiters--;
      });
    });
  }

  /** How many runs are under way. */
  get size(): number {
    return this.flights.size;
  }
}
