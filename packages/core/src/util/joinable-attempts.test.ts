import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CancelledError, UnavailableError } from '../errors.js';
import { JoinableAttempts } from './joinable-attempts.js';

function later<V>(): { promise: Promise<V>; resolve(v: V): void; reject(e: unknown): void } {
  let resolve!: (v: V) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<V>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}
const live = () => new AbortController().signal;

test('a retry with the same fingerprint joins the running attempt instead of starting another', async () => {
  const attempts = new JoinableAttempts<string>(60_000);
  const first = later<string>();
  let runs = 0;
  const work = () => { runs++; return first.promise; };
  const a = attempts.run('pod', 'cfg', work, live(), 'run pod');
  const b = attempts.run('pod', 'cfg', work, live(), 'run pod');
  first.resolve('id-1');
  assert.deepEqual(await Promise.all([a, b]), ['id-1', 'id-1']);
  assert.equal(runs, 1);
  assert.equal(attempts.size, 0, 'collected results are forgotten');
});

test('the caller going away does not stop the attempt; its result waits for the retry', async () => {
  const attempts = new JoinableAttempts<string>(60_000);
  const first = later<string>();
  const gone = new AbortController();
  const a = attempts.run('pod', 'cfg', () => first.promise, gone.signal, 'run pod');
  gone.abort();
  await assert.rejects(a, CancelledError);
  first.resolve('id-1');
  await first.promise;
  assert.equal(attempts.size, 1);
  assert.equal(await attempts.run('pod', 'cfg', () => Promise.reject(new Error('must not run')), live(), 'run pod'), 'id-1');
  assert.equal(attempts.size, 0);
});

test('a failed attempt is forgotten; a different fingerprint never joins', async () => {
  const attempts = new JoinableAttempts<string>(60_000);
  const first = later<string>();
  const a = attempts.run('pod', 'cfg', () => first.promise, live(), 'run pod');
  assert.equal(await attempts.run('pod', 'other', async () => 'own', live(), 'run pod'), 'own');
  first.reject(new UnavailableError('cni down'));
  await assert.rejects(a, UnavailableError);
  assert.equal(attempts.size, 0);
  assert.equal(await attempts.run('pod', 'cfg', async () => 'id-2', live(), 'run pod'), 'id-2');
});
