/**
 * An unbounded queue read as an async iterable: `push` adds, `end` finishes the iteration,
 * `fail` makes the next read throw. One reader.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private readonly waiting: ((result: IteratorResult<T>) => void)[] = [];
  private readonly failing: ((err: unknown) => void)[] = [];
  private done = false;
  private error: { readonly err: unknown } | undefined;

  /** Adds an item; ignored after `end` or `fail`. */
  push(item: T): void {
    if (this.done) return;
    const wake = this.waiting.shift();
    this.failing.shift();
    if (wake) wake({ value: item, done: false });
    else this.items.push(item);
  }

  /** Ends the iteration once the queued items are read. Idempotent. */
  end(): void {
    this.done = true;
    this.flush();
  }

  /** Makes the next read throw `err` (queued items are dropped). */
  fail(err: unknown): void {
    this.done = true;
    this.error = { err };
    this.items.length = 0;
    this.flush();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length > 0) return Promise.resolve({ value: this.items.shift() as T, done: false });
        if (this.error) return Promise.reject(this.error.err);
        if (this.done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiting.push(resolve);
          this.failing.push(reject);
        });
      },
    };
  }

  private flush(): void {
    const waiting = this.waiting.splice(0);
    const failing = this.failing.splice(0);
    waiting.forEach((resolve, i) => {
      if (this.error) failing[i]?.(this.error.err);
      else resolve({ value: undefined, done: true });
    });
  }
}
