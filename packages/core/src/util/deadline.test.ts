import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clampTimerMs, deadline } from './deadline.js';

test('a deadline aborts with a TimeoutError after its time, even after a garbage collection', async () => {
  const d = deadline(new AbortController().signal, 50);
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise(r => setTimeout(r, 120));
  assert.equal(d.signal.aborted, true);
  assert.equal((d.signal.reason as Error).name, 'TimeoutError');
});

test('a deadline follows any parent, and dispose leaves it alone afterwards', async () => {
  const a = new AbortController();
  const b = new AbortController();
  const d = deadline([a.signal, b.signal], 10_000);
  b.abort(new Error('b went'));
  assert.equal(d.signal.aborted, true);
  assert.equal((d.signal.reason as Error).message, 'b went');

  const c = new AbortController();
  const e = deadline(c.signal, 30);
  e.dispose();
  c.abort();
  await new Promise(r => setTimeout(r, 60));
  assert.equal(e.signal.aborted, false, 'disposed: neither the parent nor the timer reach it');
  assert.equal(deadline(AbortSignal.abort('already'), 10).signal.reason, 'already');
});

test('a timeout above 2^31-1 ms is clamped: the deadline does not fire at once', async () => {
  const huge = deadline([], 2 ** 40 * 1000);
  const infinite = deadline([], Number.POSITIVE_INFINITY);
  await new Promise(r => setTimeout(r, 50));
  assert.equal(huge.signal.aborted, false);
  assert.equal(infinite.signal.aborted, false);
  huge.dispose();
  infinite.dispose();
  assert.equal(clampTimerMs(2 ** 31), 2 ** 31 - 1);
  assert.equal(clampTimerMs(-5), 0);
  assert.equal(clampTimerMs(Number.NaN), 0);
  assert.equal(clampTimerMs(1500), 1500);
});
