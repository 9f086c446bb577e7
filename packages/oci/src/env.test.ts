import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeEnv } from './env.js';

describe('mergeEnv', () => {
  it('replaces in place, appends new keys, later lists win', () => {
    assert.deepEqual(mergeEnv(['PATH=/bin', 'A=1'], ['B=2', 'PATH=/usr/bin'], ['A=3']), ['PATH=/usr/bin', 'A=3', 'B=2']);
  });
  it('keeps values containing =', () => {
    assert.deepEqual(mergeEnv(['A=x=y'], ['B=c=d']), ['A=x=y', 'B=c=d']);
  });
  it('unsets a key given without =', () => {
    assert.deepEqual(mergeEnv(['A=1', 'B=2'], ['A'], ['A=4']), ['B=2', 'A=4']);
  });
});
