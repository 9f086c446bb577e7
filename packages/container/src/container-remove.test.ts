// RemoveContainer's containerd calls, against fakes: no second task Delete once the exit recorder deleted
// the task, and a Delete still when it did not (its Delete failed, or crikit restarted since).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ContainerdEventMonitor, NotFoundError, RuntimeEventBus, silentLogger, UnavailableError, type ContainerRecord } from '@crikit/core';
import { containerRecord, containerStoreWith, FakeContainerd, FakeLogWriter, sandboxRecord, sandboxStoreWith } from '@crikit/core/testing';
import { AttachHub } from './attach-hub.js';
import { ContainerExits } from './container-exits.js';
import { ContainerLifecycle } from './container-lifecycle.js';
import { MemoryIo } from './memory-io-fixtures.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-remove-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));


/** A container in a ready pod, on a fake containerd whose tasks behave; `failDeletes` makes that many task Deletes fail. */
async function setup(n: number, make: (pod: ReturnType<typeof sandboxRecord>) => ContainerRecord = pod => containerRecord({}, pod)) {
  const pod = sandboxRecord();
  const record = make(pod);
  const id = record.metadata.id;
  const store = containerStoreWith([record]);
  const containerd = new FakeContainerd();
  const io = new MemoryIo({ rootDir: path.join(root, `root-${n}`), stateDir: path.join(root, `state-${n}`) } as never);
  await containerd.containers.create({ container: { id, labels: {} } });
  const tasks = new Map<string, { pid: number; status: number }>();
  const faults = { failDeletes: 0 };
  containerd.handle('snapshots.mounts', () => ({ mounts: [] }));
  containerd.handle('snapshots.remove', () => ({}));
  containerd.handle('tasks.create', req => { tasks.set(req.containerId, { pid: 0, status: 1 }); return { containerId: req.containerId, pid: 0 }; });
  containerd.handle('tasks.start', req => { tasks.set(req.containerId, { pid: 4242, status: 2 }); return { pid: 4242 }; });
  containerd.handle('tasks.get', req => {
    const task = tasks.get(req.containerId);
    if (!task) throw new NotFoundError(`task ${req.containerId}`);
    return { process: { containerId: req.containerId, pid: task.pid, status: task.status } };
  });
  containerd.handle('tasks.kill', req => { const t = tasks.get(req.containerId); if (t) t.status = 3; io.endAll(); return {}; });
  containerd.handle('tasks.wait', () => ({ exitStatus: 137 }));
  containerd.handle('tasks.delete', req => {
    if (faults.failDeletes > 0 && faults.failDeletes--) throw new UnavailableError('shim busy');
    if (!tasks.delete(req.containerId)) throw new NotFoundError(`task ${req.containerId}`);
    return {};
  });
  const logs = new FakeLogWriter();
  const bus = new RuntimeEventBus(silentLogger);
  const exits = new ContainerExits(containerd, store, new ContainerdEventMonitor(containerd, silentLogger), logs, io, bus, silentLogger);
  const lifecycle = new ContainerLifecycle(store, sandboxStoreWith([pod]), containerd, io, logs, exits, new AttachHub(containerd), bus, 'overlayfs', silentLogger);
  after(() => io.endAll());
  return { lifecycle, store, containerd, tasks, faults, id };
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
