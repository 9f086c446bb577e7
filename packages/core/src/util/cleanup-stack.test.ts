import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from '../logger.js';
import { CleanupStack } from './cleanup-stack.js';

/** A logger that keeps what was logged at warn level. */
function recordingLogger(): Logger & { warnings: object[] } {
  const warnings: object[] = [];
  const log = {
    warnings,
    trace() {}, debug() {}, info() {}, error() {},
    warn(obj: object) { warnings.push(obj); },
    child() { return log; },
  };
  return log;
}

describe('CleanupStack', () => {
  it('runs steps in reverse order', async () => {
    const order: string[] = [];
    const cleanup = new CleanupStack(recordingLogger());
    cleanup.push('one', () => { order.push('one'); });
    cleanup.push('two', async () => { order.push('two'); });
    cleanup.push('three', () => { order.push('three'); });
    await cleanup.run(AbortSignal.timeout(1000));
    assert.deepEqual(order, ['three', 'two', 'one']);
  });

  it('continues after a failing step, logs it, and never throws', async () => {
    const order: string[] = [];
    const log = recordingLogger();
    const cleanup = new CleanupStack(log);
    cleanup.push('first', () => { order.push('first'); });
    cleanup.push('broken', () => Promise.reject(new Error('detach failed')));
    cleanup.push('sync broken', () => { throw new Error('release failed'); });
    cleanup.push('last', () => { order.push('last'); });
    await cleanup.run(AbortSignal.timeout(1000));
    assert.deepEqual(order, ['last', 'first']);
    assert.deepEqual(log.warnings.map(w => (w as { step: string }).step), ['sync broken', 'broken']);
  });

  it('passes the signal to each step, and forgets steps after run or clear', async () => {
    const signal = AbortSignal.timeout(1000);
    const seen: AbortSignal[] = [];
    const cleanup = new CleanupStack(recordingLogger());
    cleanup.push('a', s => { seen.push(s); });
    await cleanup.run(signal);
    await cleanup.run(signal);
    assert.deepEqual(seen, [signal]);
    cleanup.push('b', () => { throw new Error('must not run'); });
    cleanup.clear();
    await cleanup.run(signal);
  });
});
