// RemoveContainer's containerd calls, against fakes: no second task Delete once the exit recorder deleted
// the task, and a Delete still when it did not (its Delete failed, or crikit restarted since).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { NotFoundError, UnavailableError } from '@crikit/core';
import { containerRecord } from '@crikit/core/testing';
import { lifecycleFixture } from './container-lifecycle-fixtures.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-remove-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));


/** lifecycleFixture, with `failDeletes` making that many task Deletes fail (and NOT_FOUND for a task that is gone). */
async function setup(n: number, make?: Parameters<typeof lifecycleFixture>[1]) {
  const f = await lifecycleFixture({ rootDir: path.join(root, `root-${n}`), stateDir: path.join(root, `state-${n}`) }, make);
  const faults = { failDeletes: 0 };
  f.containerd.handle('tasks.delete', req => {
    if (faults.failDeletes > 0 && faults.failDeletes--) throw new UnavailableError('shim busy');
    if (!f.tasks.delete(req.containerId)) throw new NotFoundError(`task ${req.containerId}`);
    return {};
  });
  return { ...f, faults };
}

const signal = () => AbortSignal.timeout(10_000);

test('RemoveContainer after a recorded exit makes no second task Delete: only the container and its snapshot go', async () => {
  const f = await setup(1);
  await f.lifecycle.start(f.id, signal());
  await f.lifecycle.stop(f.id, 0, signal());
  assert.equal(f.store.get(f.id).status.state, 'exited');
  assert.equal(f.containerd.requestsTo('tasks.delete').length, 1, 'the exit recorder deleted the task');
  const before = f.containerd.calls.length;
  await f.lifecycle.remove(f.id, signal());
  // containerd deleted the task (and shut its shim down): no spec read, no look for what a lost task left.
  assert.deepEqual(f.containerd.calls.slice(before).map(c => c.method), ['containers.delete', 'snapshots.remove']);
  assert.equal(f.store.find(f.id), undefined);
  assert.equal(f.containerd.containerRecords.has(f.id), false);
});

test('RemoveContainer deletes the task when the exit recorder could not', async () => {
  const f = await setup(2);
  await f.lifecycle.start(f.id, signal());
  f.faults.failDeletes = 3;
  await f.lifecycle.stop(f.id, 0, signal());
  assert.equal(f.store.get(f.id).status.state, 'exited');
  assert.ok(f.tasks.has(f.id), 'the stopped task is still there');
  await f.lifecycle.remove(f.id, signal());
  assert.equal(f.tasks.has(f.id), false, 'RemoveContainer deleted it');
  assert.equal(f.store.find(f.id), undefined);
});

test('RemoveContainer of an exit recorded before a restart of crikit still deletes the task', async () => {
  // A recorder that did not see the exit (a new process): the stopped task may still be in containerd.
  const f = await setup(3, pod => containerRecord({ status: { state: 'exited', exitCode: 0, reason: 'Completed', finishedAt: 1n } }, pod));
  f.tasks.set(f.id, { pid: 4242, status: 3 });
  await f.lifecycle.remove(f.id, signal());
  assert.equal(f.containerd.requestsTo('tasks.delete').length, 1);
  assert.equal(f.tasks.has(f.id), false);
  assert.equal(f.store.find(f.id), undefined);
});

test('RemoveContainer while an exit is being recorded waits for it: one task Delete, STOPPED before DELETED', async () => {
  const f = await setup(4);
  await f.lifecycle.start(f.id, signal());
  const events: string[] = [];
  f.bus.events.on('container:exited', () => events.push('exited')).on('container:removed', () => events.push('removed'));
  let release!: () => void;
  const held = new Promise<void>(resolve => { release = resolve; });
  f.containerd.handle('tasks.delete', async req => {
    await held;
    if (!f.tasks.delete(req.containerId)) throw new NotFoundError(`task ${req.containerId}`);
    return {};
  });
  f.tasks.set(f.id, { pid: 4242, status: 3 });
  // The exit event arrives; the recorder marks the container exited and is deleting its task.
  const recorded = f.exits.record(f.id, 0, 1n);
  while (f.store.get(f.id).status.state !== 'exited') await new Promise(r => setImmediate(r));
  const removed = f.lifecycle.remove(f.id, signal());
  await new Promise(r => setTimeout(r, 20));
  release();
  await Promise.all([recorded, removed]);
  assert.equal(f.containerd.requestsTo('tasks.delete').length, 1, 'the recorder deleted the task; the removal did not delete it again');
  assert.deepEqual(events, ['exited', 'removed']);
  assert.equal(f.store.find(f.id), undefined);
});

test('RemoveContainer of a task containerd does not know looks for what a lost task left, through its spec\'s cgroup', async () => {
  const f = await setup(5);
  // Created, and a StartContainer cut short: containerd has no task, but its shim may still run.
  const before = f.containerd.calls.length;
  await f.lifecycle.remove(f.id, signal());
  assert.deepEqual(f.containerd.calls.slice(before).map(c => c.method), ['tasks.delete', 'containers.get', 'containers.delete', 'snapshots.remove']);
  assert.equal(f.store.find(f.id), undefined);
});
