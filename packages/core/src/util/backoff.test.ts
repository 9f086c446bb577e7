import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff, backoffDelay } from './backoff.js';

test('backoffDelay doubles from initialMs and stops at maxMs', () => {
  const policy = { initialMs: 100, maxMs: 2_000 };
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(r => backoffDelay(policy, r)), [100, 200, 400, 800, 1_600, 2_000, 2_000]);
});

test('backoffDelay takes another factor, and counts a retry below 1 as the first', () => {
  assert.deepEqual([1, 2, 3].map(r => backoffDelay({ initialMs: 10, factor: 3 }, r)), [10, 30, 90]);
  assert.equal(backoffDelay({ initialMs: 10 }, 0), 10);
  assert.equal(backoffDelay({ initialMs: 10 }, -4), 10);
});

test('backoffDelay never exceeds what setTimeout honours, even without maxMs or after overflow', () => {
  assert.equal(backoffDelay({ initialMs: 1_000 }, 40), 2 ** 31 - 1);
  assert.equal(backoffDelay({ initialMs: 1_000 }, 5_000), 2 ** 31 - 1);
  assert.equal(backoffDelay({ initialMs: 1_000, maxMs: 2 ** 40 }, 60), 2 ** 31 - 1);
});

test('backoffDelay refuses a negative initialMs or a factor below 1', () => {
  assert.throws(() => backoffDelay({ initialMs: -1 }, 1), RangeError);
  assert.throws(() => backoffDelay({ initialMs: Number.NaN }, 1), RangeError);
  assert.throws(() => backoffDelay({ initialMs: 1, factor: 0.5 }, 1), RangeError);
  assert.throws(() => new Backoff({ initialMs: 1, factor: 0 }), RangeError);
});

test('Backoff counts retries and starts again after reset', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 5_000 });
  assert.deepEqual([b.next(), b.next(), b.next()], [100, 200, 400]);
  assert.equal(b.retries, 3);
  b.reset();
  assert.equal(b.retries, 0);
  assert.equal(b.next(), 100);
  for (let i = 0; i < 10; i++) b.next();
  assert.equal(b.next(), 5_000);
});
