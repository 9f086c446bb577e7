import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { PrefixIndex } from './prefix-index.js';

describe('PrefixIndex', () => {
  const index = (...ids: string[]): PrefixIndex<string> => {
    const i = new PrefixIndex<string>('sandbox');
    for (const id of ids) i.add(id);
    return i;
  };

  it('resolves a unique prefix, and the full id, to the id', () => {
    const i = index('abc123', 'abd456', 'ff0000');
    assert.equal(i.resolve('abc'), 'abc123');
    assert.equal(i.resolve('abd4'), 'abd456');
    assert.equal(i.resolve('f'), 'ff0000');
    assert.equal(i.resolve('abc123'), 'abc123');
  });

  it('rejects an ambiguous prefix with InvalidArgumentError saying how many match', () => {
    const i = index('abc123', 'abd456', 'abe789');
    assert.throws(() => i.resolve('ab'), (err: unknown) => err instanceof InvalidArgumentError && /matches 3 ids/.test(err.message));
  });

  it('rejects a prefix that matches nothing with NotFoundError, and find gives undefined', () => {
    const i = index('abc123');
    assert.throws(() => i.resolve('abd'), NotFoundError);
    assert.throws(() => i.resolve('abc1234'), NotFoundError);
    assert.equal(i.find('zz'), undefined);
  });

  it('rejects an empty prefix', () => {
    assert.throws(() => index('abc').resolve(''), InvalidArgumentError);
  });

  it('prefers an exact id over a longer id it prefixes', () => {
    assert.equal(index('abc', 'abcdef').resolve('abc'), 'abc');
  });

  it('add and remove are idempotent and keep the index consistent', () => {
    const i = index('b', 'a', 'c', 'b');
    assert.equal(i.size, 3);
    i.remove('b');
    i.remove('b');
    i.remove('never');
    assert.equal(i.size, 2);
    assert.equal(i.has('b'), false);
    assert.throws(() => i.resolve('b'), NotFoundError);
    assert.equal(i.resolve('c'), 'c');
  });

  it('stays correct with many random ids', () => {
    const ids = Array.from({ length: 300 }, (_, n) => (n * 2654435761 >>> 0).toString(16).padStart(8, '0'));
    const i = index(...ids);
    for (const id of ids) assert.equal(i.resolve(id), id);
    for (const id of ids.slice(0, 150)) i.remove(id);
    for (const id of ids.slice(150)) assert.equal(i.resolve(id), id);
    assert.equal(i.size, 150);
  });
});
