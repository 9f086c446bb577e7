import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GuardedEmitter } from './guarded-emitter.js';

interface Events { 'thing:happened': [n: number] }

describe('GuardedEmitter', () => {
  it('keeps calling listeners after one throws, and reports the error with the event', () => {
    const errors: [unknown, PropertyKey][] = [];
    const emitter = new GuardedEmitter<Events>((err, event) => errors.push([err, event]));
    const seen: number[] = [];
    emitter.on('thing:happened', () => { throw new Error('bad listener'); });
    emitter.on('thing:happened', n => seen.push(n));
    assert.doesNotThrow(() => emitter.emit('thing:happened', 1));
    assert.deepEqual(seen, [1]);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.[1], 'thing:happened');
  });

  it('reports a rejected async listener instead of losing it', async () => {
    const errors: unknown[] = [];
    const emitter = new GuardedEmitter<Events>(err => errors.push(err));
    emitter.on('thing:happened', (async () => { throw new Error('async'); }) as () => void);
    emitter.emit('thing:happened', 1);
    await new Promise(resolve => setImmediate(resolve));
    assert.equal(errors.length, 1);
  });

  it('off and once work with the original listener; context is kept', () => {
    const emitter = new GuardedEmitter<Events>(() => {});
    const seen: number[] = [];
    const listener = (n: number) => seen.push(n);
    emitter.on('thing:happened', listener);
    emitter.off('thing:happened', listener);
    emitter.once('thing:happened', n => seen.push(n * 10));
    const ctx = { factor: 100 };
    emitter.addListener('thing:happened', function (this: typeof ctx, n: number) { seen.push(n * this.factor); }, ctx);
    emitter.emit('thing:happened', 1);
    emitter.emit('thing:happened', 2);
    assert.deepEqual(seen, [10, 100, 200]);
    emitter.removeListener('thing:happened');
    assert.equal(emitter.listenerCount('thing:happened'), 0);
  });
});
