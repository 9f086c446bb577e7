/**
 * Shares one in-flight promise among concurrent callers with the same key
 * (e.g. ten PullImage calls for one reference make one pull).
 */
export class KeyedSingleFlight<K, V> {
  private readonly inFlight = new Map<K, Promise<V>>();

  /** Runs `fn` unless a call with `key` is already under way, in which case its promise is returned. */
  do(key: K, fn: () => Promise<V>): Promise<V> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const p = fn().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  /** How many keys have a call under way. */
  get size(): number {
    return this.inFlight.size;
  }
}
