import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResourceExhaustedError } from '@crikit/core';
import { StreamTokens } from './stream-tokens.js';

describe('StreamTokens', () => {
  it('hands out unguessable tokens that can be taken once, before they expire', () => {
    let now = 1_000;
    const tokens = new StreamTokens<string>(60_000, () => now);
    const a = tokens.issue('a');
    const b = tokens.issue('b');
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, b);
    assert.equal(tokens.take(a), 'a');
    assert.equal(tokens.take(a), undefined, 'used up');
    now += 60_000;
    assert.equal(tokens.take(b), undefined, 'expired');
    assert.equal(tokens.size, 0);
    assert.equal(tokens.take('made-up'), undefined);
  });

  it('drops expired tokens as it goes and refuses more than 1000 pending', () => {
    let now = 0;
    const tokens = new StreamTokens<number>(10, () => now);
    for (let i = 0; i < 1000; i++) tokens.issue(i);
    assert.throws(() => tokens.issue(1000), ResourceExhaustedError);
    now = 10;
    tokens.issue(1);
    assert.equal(tokens.size, 1);
  });
});
