import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlreadyExistsError, InvalidArgumentError, isFailedPrecondition, NotFoundError } from '../errors.js';
import type { ContainerId } from '../ids.js';
import { containerRecord, sandboxRecord } from '../testing/record-builders.js';
import { containerStoreWith } from '../testing/store-builders.js';
import { ContainerStore } from './container-store.js';

const id = (s: string): ContainerId => s.padEnd(64, '0') as ContainerId;

describe('ContainerStore', () => {
  it('names containers as containerd does and refuses a second container with that name', () => {
    const pod = sandboxRecord();
    const first = containerRecord({ metadata: { id: id('aa') } }, pod);
    const meta = pod.metadata.config.metadata;
    assert.equal(first.metadata.name, `${first.metadata.config.metadata?.name}_${meta?.name}_${meta?.namespace}_${meta?.uid}_0`);
    const store = new ContainerStore();
    store.reserveName(first.metadata.name, first.metadata.id);
    assert.throws(() => store.reserveName(first.metadata.name, id('bb')), /reserved for "a/);
    store.add(first);
    assert.throws(() => store.add(containerRecord({ metadata: { id: id('bb'), name: first.metadata.name } })), AlreadyExistsError);
    assert.throws(() => store.add(containerRecord({ metadata: { id: id('aa') } })), AlreadyExistsError);
    assert.equal(store.size, 1);
  });

  it('update that throws leaves nothing changed', () => {
    const store = containerStoreWith([containerRecord({ metadata: { id: id('aa') } })]);
    const before = store.get('aa');
    assert.throws(() => store.update(id('aa'), () => { throw new Error('no'); }));
    assert.equal(store.get('aa'), before);
    const running = store.update(id('aa'), s => ({ ...s, state: 'running', pid: 42, startedAt: 1n }));
    assert.equal(running.status.state, 'running');
    assert.equal(before.status.state, 'created');
  });

  it('get by prefix, and delete releases name and prefix', () => {
    const a = containerRecord({ metadata: { id: id('abc') } });
    const store = containerStoreWith([a, containerRecord({ metadata: { id: id('abd') } })]);
    assert.throws(() => store.get('ab'), InvalidArgumentError);
    store.delete(id('abc'));
    store.delete(id('abc'));
    assert.throws(() => store.get('abc'), NotFoundError);
    assert.equal(store.get('ab').metadata.id, id('abd'));
    store.add(containerRecord({ metadata: { id: id('fff'), name: a.metadata.name } }));
  });

  it('list filters, e.g. by sandbox', () => {
    const pod = sandboxRecord();
    const store = containerStoreWith([containerRecord({}, pod), containerRecord({}, pod), containerRecord()]);
    assert.equal(store.list(r => r.metadata.sandboxId === pod.metadata.id).length, 2);
    assert.equal(store.list().length, 3);
  });

  it('holds one operation per container: a second one fails FAILED_PRECONDITION naming it, until the first ends', () => {
    const store = containerStoreWith([containerRecord({ metadata: { id: id('aa') } })]);
    const end = store.beginOperation(id('aa'), 'starting');
    assert.equal(store.operation(id('aa')), 'starting');
    assert.throws(() => store.beginOperation(id('aa'), 'removing'), err => isFailedPrecondition(err) && /"aa0+" is busy: starting/.test((err as Error).message));
    end();
    end();
    assert.equal(store.operation(id('aa')), undefined);
    const again = store.beginOperation(id('aa'), 'removing');
    end(); // a stale end leaves the newer operation alone
    assert.equal(store.operation(id('aa')), 'removing');
    again();
    assert.throws(() => store.beginOperation(id('bb'), 'starting'), NotFoundError);
  });
});
