import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedSingleFlight } from './keyed-single-flight.js';

describe('KeyedSingleFlight', () => {
  it('shares one promise among concurrent calls with the same key', async () => {
    const flight = new KeyedSingleFlight<string, number>();
    let runs = 0;
    let release!: (n: number) => void;
    const fn = () => { runs++; return new Promise<number>(resolve => { release = resolve; }); };
    const a = flight.do('busybox', fn);
    const b = flight.do('busybox', fn);
    const other = flight.do('nginx', () => Promise.resolve(7));
    assert.equal(a, b);
    assert.equal(runs, 1);
    assert.equal(flight.size, 2);
    release(42);
    assert.deepEqual(await Promise.all([a, b, other]), [42, 42, 7]);
    assert.equal(flight.size, 0);
  });

  it('frees the key after a rejection, so the next call runs again', async () => {
    const flight = new KeyedSingleFlight<string, string>();
    const failing = flight.do('k', () => Promise.reject(new Error('registry down')));
    const joined = flight.do('k', () => Promise.resolve('never runs'));
    await assert.rejects(failing, /registry down/);
    await assert.rejects(joined, /registry down/);
    assert.equal(flight.size, 0);
    assert.equal(await flight.do('k', () => Promise.resolve('second try')), 'second try');
  });
});
