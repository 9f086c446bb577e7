import assert from 'node:assert/strict';
import { test } from 'node:test';
import { settleAll } from './settle-all.js';

test('settleAll waits for every step and throws the first failure in order', async () => {
  let slowDone = false;
  const slow = new Promise<void>(resolve => setTimeout(() => { slowDone = true; resolve(); }, 30));
  await assert.rejects(settleAll([Promise.reject(new Error('first')), slow, undefined, Promise.reject(new Error('second'))]), /first/);
  assert.equal(slowDone, true);
  await settleAll([Promise.resolve(1), undefined]);
});
