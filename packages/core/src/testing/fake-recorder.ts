/** The names of the methods of `T` (what a fake of `T` records and can fail). */
export type MethodsOf<T> = { [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T] & string;

/** One recorded call to a fake. */
export interface FakeCall<M extends string> {
  readonly method: M;
  readonly args: readonly unknown[];
}

/**
 * What every fake shares: it records each call and can be told to fail the next call of a method.
 * A fake method calls `record` first, so a queued error is thrown (or, in an async method,
 * rejected) before the fake does anything.
 */
export abstract class FakeRecorder<M extends string> {
  /** Every call, in order. */
  readonly calls: FakeCall<M>[] = [];
  private readonly failures = new Map<M, unknown[]>();

  /** Makes the next call of `method` fail with `err`. Queued errors are used first in, first out. */
  failNext(method: M, err: unknown): void {
    const queue = this.failures.get(method) ?? [];
    queue.push(err);
    this.failures.set(method, queue);
  }

  /** The arguments of each call of `method`, in order. */
  argsOf(method: M): (readonly unknown[])[] {
    return this.calls.filter(c => c.method === method).map(c => c.args);
  }

  /** How many times `method` was called. */
  countOf(method: M): number {
    return this.calls.filter(c => c.method === method).length;
  }

  /** Records a call, then throws the error queued for `method`, if any. */
  protected record(method: M, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const queue = this.failures.get(method);
    if (queue && queue.length > 0) throw queue.shift();
  }
}
