/**
 * Waits for every step to settle, then throws the first failure (in `steps` order): a step that
 * fails never leaves the others halfway. Undefined entries stand for steps that were skipped.
 */
export async function settleAll(steps: readonly (Promise<unknown> | undefined)[]): Promise<void> {
  const failed = (await Promise.allSettled(steps)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
