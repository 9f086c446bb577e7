import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '../errors.js';
import type { SandboxId } from '../ids.js';
import { sandboxRecord } from '../testing/record-builders.js';
import { sandboxStoreWith } from '../testing/store-builders.js';
import { SandboxStore } from './sandbox-store.js';

const id = (s: string): SandboxId => s.padEnd(64, '0') as SandboxId;

describe('SandboxStore', () => {
  it('reserveName before add: another id cannot take the name, the same id can add', () => {
    const store = new SandboxStore();
    const record = sandboxRecord({ metadata: { id: id('aa') } });
    store.reserveName(record.metadata.name, record.metadata.id);
    assert.throws(() => store.reserveName(record.metadata.name, id('bb')), AlreadyExistsError);
    const other = sandboxRecord({ metadata: { id: id('bb'), name: record.metadata.name } });
    assert.throws(() => store.add(other), AlreadyExistsError);
    store.add(record);
    assert.equal(store.get('aa').metadata.name, record.metadata.name);
  });

  it('releaseName frees a reservation that never became a record, but not a stored name', () => {
    const store = new SandboxStore();
    store.reserveName('pod_ns_uid_0', id('aa'));
    store.releaseName(id('aa'));
    store.reserveName('pod_ns_uid_0', id('bb'));
    assert.equal(store.nameHolder('pod_ns_uid_0'), id('bb'));
    const stored = sandboxRecord({ metadata: { id: id('cc') } });
    store.add(stored);
    store.releaseName(id('cc'));
    assert.equal(store.nameHolder(stored.metadata.name), id('cc'));
  });

  it('add refuses a duplicate id and leaves the store unchanged', () => {
    const first = sandboxRecord({ metadata: { id: id('aa') } });
    const store = sandboxStoreWith([first]);
    assert.throws(() => store.add(sandboxRecord({ metadata: { id: id('aa') } })), AlreadyExistsError);
    assert.equal(store.size, 1);
    assert.equal(store.get(id('aa')), first);
  });

  it('get resolves short ids and reports missing and ambiguous ones', () => {
    const store = sandboxStoreWith([sandboxRecord({ metadata: { id: id('abc1') } }), sandboxRecord({ metadata: { id: id('abc2') } })]);
    assert.equal(store.get('abc1').metadata.id, id('abc1'));
    assert.throws(() => store.get('abc'), InvalidArgumentError);
    assert.throws(() => store.get('fff'), NotFoundError);
    assert.equal(store.find('fff'), undefined);
  });

  it('freezes records: metadata and status cannot be changed in place', () => {
    const store = sandboxStoreWith([sandboxRecord({ metadata: { id: id('aa') } })]);
    const record = store.get('aa');
    assert.ok(Object.isFrozen(record) && Object.isFrozen(record.metadata) && Object.isFrozen(record.metadata.config.labels));
    assert.throws(() => { (record.status as { state: string }).state = 'notready'; }, TypeError);
  });

  it('update replaces the status and hands out a new snapshot; the old one is unchanged', () => {
    const store = sandboxStoreWith([sandboxRecord({ metadata: { id: id('aa') } })]);
    const before = store.get('aa');
    const after = store.update(id('aa'), s => ({ ...s, state: 'notready', pid: 0 }));
    assert.equal(after.status.state, 'notready');
    assert.equal(before.status.state, 'ready');
    assert.equal(after.metadata, before.metadata);
    assert.equal(store.get('aa'), after);
  });

  it('update that throws leaves nothing changed', () => {
    const store = sandboxStoreWith([sandboxRecord({ metadata: { id: id('aa') } })]);
    const before = store.get('aa');
    assert.throws(() => store.update(id('aa'), () => { throw new Error('boom'); }), /boom/);
    assert.equal(store.get('aa'), before);
    assert.throws(() => store.update(id('ff'), s => s), NotFoundError);
  });

  it('delete is idempotent and releases the name and the short id', () => {
    const record = sandboxRecord({ metadata: { id: id('abc') } });
    const store = sandboxStoreWith([record, sandboxRecord({ metadata: { id: id('abd') } })]);
    store.delete(id('abc'));
    store.delete(id('abc'));
    assert.equal(store.size, 1);
    assert.equal(store.nameHolder(record.metadata.name), undefined);
    // 'ab' was ambiguous; with abc gone it names abd.
    assert.equal(store.get('ab').metadata.id, id('abd'));
    store.reserveName(record.metadata.name, id('eee'));
  });

  it('list returns a snapshot, filtered when asked', () => {
    const store = sandboxStoreWith([
      sandboxRecord({ metadata: { id: id('aa') } }),
      sandboxRecord({ metadata: { id: id('bb') }, status: { state: 'notready' } }),
      sandboxRecord({ metadata: { id: id('cc') }, status: { state: 'unknown' } }),
    ]);
    assert.equal(store.list().length, 3);
    assert.deepEqual(store.list(r => r.status.state !== 'ready').map(r => r.metadata.id), [id('bb'), id('cc')]);
    const listed = store.list();
    store.delete(id('aa'));
    assert.equal(listed.length, 3);
  });
});
