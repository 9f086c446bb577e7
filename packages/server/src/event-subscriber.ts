/**
 * One subscriber's bounded queue of events. `push` never blocks and never grows the queue beyond
 * `limit`: one event more closes the subscriber and its next `next()` throws `overflow()`.
 * Closing runs the `onClose` callbacks once (e.g. to remove bus listeners).
 */
export class EventSubscriber<T> {
  private readonly queue: T[] = [];
  private readonly closers: (() => void)[] = [];
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private closed = false;

  constructor(private readonly limit: number, private readonly overflow: () => Error) {}

  /** Whether the subscriber was closed (by `close` or by overflowing). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** How many events wait to be taken. */
  get size(): number {
    return this.queue.length;
  }

  /** Queues `item`; overflowing closes the subscriber. A no-op once closed. */
  push(item: T): void {
    if (this.closed) return;
    if (this.queue.length >= this.limit) {
      this.failure = this.overflow();
      this.close();
      return;
    }
    this.queue.push(item);
    this.wakeUp();
  }

  /** Runs `fn` when the subscriber closes (at once if it already has). */
  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closers.push(fn);
  }

  /** Drops what is queued and ends the subscriber; `next` then resolves undefined. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    for (const fn of this.closers.splice(0)) fn();
    this.wakeUp();
  }

  /**
   * The next event, waiting for one; undefined once closed.
   * @throws the overflow error when the subscriber fell behind
   */
  async next(): Promise<T | undefined> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.closed) return undefined;
      const item = this.queue.shift();
      if (item !== undefined) return item;
      // One waiter at a time: the generator that owns this subscriber.
      await new Promise<void>(resolve => { this.wake = resolve; });
    }
  }

  /**
   * Yields the events until the subscriber closes or `signal` fires (which closes it at once), and
   * closes it when the consumer stops early.
   * @throws the overflow error when the subscriber fell behind
   */
  async *drain(signal: AbortSignal): AsyncGenerator<T> {
    const cancel = (): void => this.close();
    signal.addEventListener('abort', cancel, { once: true });
    try {
      for (;;) {
        const next = await this.next();
        if (next === undefined) return;
        yield next;
      }
    } finally {
      signal.removeEventListener('abort', cancel);
      this.close();
    }
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
