import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerialRuns } from './serial-runs.js';

test('runs one at a time; requests during a run coalesce into one more run', async () => {
  const errors: unknown[] = [];
  const runs = new SerialRuns(err => errors.push(err));
  let active = 0;
  let most = 0;
  const done: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>(r => { release = r; });
  const task = (n: number) => async () => {
    active++;
    most = Math.max(most, active);
    if (n === 1) await gate;
    active--;
    done.push(n);
  };
  runs.run(task(1));
  runs.run(task(2));
  runs.run(task(3));
  release();
  await runs.idle();
  assert.deepEqual(done, [1, 3], 'the first run, then one run for the requests made meanwhile');
  assert.equal(most, 1);
  assert.deepEqual(errors, []);
});

test('a failing run is reported and does not stop later runs', async () => {
  const errors: unknown[] = [];
  const runs = new SerialRuns(err => errors.push(err));
  runs.run(async () => { throw new Error('boom'); });
  await runs.idle();
  let ran = false;
  runs.run(async () => { ran = true; });
  await runs.idle();
  assert.equal(ran, true);
  assert.deepEqual(errors.map(e => (e as Error).message), ['boom']);
});
