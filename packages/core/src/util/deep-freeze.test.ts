import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from './deep-freeze.js';

describe('deepFreeze', () => {
  it('freezes nested objects and arrays but leaves Buffers alone', () => {
    const value = deepFreeze({ a: { b: [1, { c: 2 }] }, bytes: Buffer.from('x') });
    assert.ok(Object.isFrozen(value.a.b[1]));
    assert.throws(() => { (value.a.b as number[]).push(3); }, TypeError);
    assert.equal(Object.isFrozen(value.bytes), false);
  });
});
