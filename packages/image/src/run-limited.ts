import { throwIfAborted } from '@crikit/core';

/**
 * Runs `fn` over `items` with at most `limit` at once. The first failure stops new work from
 * starting and is thrown once the running ones settle.
 */
export async function runLimited<T>(items: readonly T[], limit: number, signal: AbortSignal, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        throwIfAborted(signal, 'run');
        await fn(items[i]!, i);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failed.err;
}
