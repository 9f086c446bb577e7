// The pause exit recorder against fakes: it records a pause that died on its own, and leaves the task
// to a StopPodSandbox or RemovePodSandbox that is running (one task Delete, never two at once).
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { taskTypes } from '@crikit/api';
import {
  ContainerStore, CrikitKeys, encodeSandboxMetadata, encodeSandboxStatus, jsonAny, NotFoundError, RuntimeEventBus, silentLogger,
  type ContainerdEventMonitor, type TaskExit,
} from '@crikit/core';
import { FakeContainerd, FakeNetworkNamespaces, FakePodNetwork, sandboxRecord, sandboxStoreWith } from '@crikit/core/testing';
import { SandboxInspection } from './sandbox-inspection.js';
import { SandboxRecovery } from './sandbox-recovery.js';
import { SandboxTeardown } from './sandbox-teardown.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-sandbox-recovery-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('a pause exit during a teardown is left to the teardown; one on its own is recorded and its task deleted', async () => {
  const record = sandboxRecord();
  const id = record.metadata.id;
  const store = sandboxStoreWith([record]);
  const containerd = new FakeContainerd();
  containerd.handle('tasks.delete', () => ({}));
  const bus = new RuntimeEventBus(silentLogger);
  const paths = { rootDir: path.join(root, 'root'), stateDir: path.join(root, 'state') };
  const teardown = new SandboxTeardown(store, new ContainerStore(), new FakePodNetwork(), new FakeNetworkNamespaces(), containerd, bus,
    paths as never, 'overlayfs', silentLogger, undefined);
  const events = new EventEmitter();
  const monitor = { events } as unknown as ContainerdEventMonitor;
  const recovery = new SandboxRecovery(containerd, store, monitor, teardown, bus, silentLogger, new SandboxInspection(bus));
  await recovery.start(AbortSignal.timeout(10_000));
  const exit: TaskExit = { containerId: id, id, pid: 42, exitStatus: 137, exitedAt: 1n };
  const settle = () => new Promise(resolve => setTimeout(resolve, 50));

  const end = store.beginOperation(id, 'stopping');
  events.emit('task:exited', exit);
  await settle();
  assert.equal(containerd.requestsTo('tasks.delete').length, 0, 'the teardown deletes the task');
  assert.equal(store.get(id).status.state, 'ready', 'the teardown records the stop');
  end();

  events.emit('task:exited', exit);
  await settle();
  assert.equal(containerd.requestsTo('tasks.delete').length, 1);
  assert.equal(store.get(id).status.state, 'notready');
  assert.equal(store.get(id).status.exitStatus, 137);
  await recovery.stop();
});

test('start-up: a pause task created but never started (RunPodSandbox killed) is killed and deleted; the pod is NOTREADY', async () => {
  const record = sandboxRecord();
  const id = record.metadata.id;
  const containerd = new FakeContainerd();
  await containerd.containers.create({
    container: {
      id, labels: { [CrikitKeys.kind]: 'sandbox' },
      extensions: {
        [CrikitKeys.sandboxMetadata]: jsonAny(CrikitKeys.sandboxMetadata, encodeSandboxMetadata(record.metadata)),
        [CrikitKeys.sandboxStatus]: jsonAny(CrikitKeys.sandboxStatus, encodeSandboxStatus(record.status)),
      },
    },
  });
  const tasks = new Map<string, number>([[id, taskTypes.Status.CREATED]]);
  containerd.handle('tasks.get', req => {
    const status = tasks.get(req.containerId);
    if (status === undefined) throw new NotFoundError(`task ${req.containerId}`);
    return { process: { containerId: req.containerId, pid: 77, status } };
  });
  containerd.handle('tasks.kill', req => { tasks.set(req.containerId, taskTypes.Status.STOPPED); return {}; });
  containerd.handle('tasks.wait', () => ({ exitStatus: 137 }));
  containerd.handle('tasks.delete', req => { tasks.delete(req.containerId); return {}; });
  const store = sandboxStoreWith([]);
  const bus = new RuntimeEventBus(silentLogger);
  const paths = { rootDir: path.join(root, 'root-2'), stateDir: path.join(root, 'state-2') };
  const teardown = new SandboxTeardown(store, new ContainerStore(), new FakePodNetwork(), new FakeNetworkNamespaces(), containerd, bus,
    paths as never, 'overlayfs', silentLogger, undefined);
  const recovery = new SandboxRecovery(containerd, store, { events: new EventEmitter() } as unknown as ContainerdEventMonitor, teardown, bus,
    silentLogger, new SandboxInspection(bus));
  await recovery.start(AbortSignal.timeout(10_000));
  assert.equal(store.get(id).status.state, 'notready');
  assert.equal(tasks.has(id), false, 'the pause task is gone');
  await recovery.stop();
});
