// StopPodSandbox racing RemovePodSandbox on one sandbox, against fakes, with the interleaving pinned
// by a gate: the loser gets FAILED_PRECONDITION, the network is detached once, the winner finishes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ContainerStore, isFailedPrecondition, NotFoundError, RuntimeEventBus, silentLogger } from '@crikit/core';
import { FakeContainerd, FakeNetworkNamespaces, FakePodNetwork, sandboxRecord, sandboxStoreWith } from '@crikit/core/testing';
import { SandboxTeardown } from './sandbox-teardown.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-sandbox-teardown-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

async function setup(n: number) {
  const record = sandboxRecord();
  const id = record.metadata.id;
  const store = sandboxStoreWith([record]);
  const network = new FakePodNetwork();
  const netns = new FakeNetworkNamespaces();
  netns.adopt(record.metadata.netnsPath!);
  const containerd = new FakeContainerd();
  await containerd.containers.create({ container: { id, labels: {} } });
  let release!: () => void;
  const held = new Promise<void>(resolve => { release = resolve; });
  // The first containerd call of a teardown: it waits until the test lets it go on.
  containerd.handle('tasks.get', async req => { await held; throw new NotFoundError(`task ${req.containerId}`); });
  containerd.handle('snapshots.remove', () => ({}));
  const paths = { rootDir: path.join(root, `root-${n}`), stateDir: path.join(root, `state-${n}`) };
  const teardown = new SandboxTeardown(store, new ContainerStore(), network, netns, containerd, new RuntimeEventBus(silentLogger),
    paths as never, 'overlayfs', silentLogger, undefined);
  return { teardown, store, network, netns, containerd, id, release };
}

const signal = () => AbortSignal.timeout(10_000);
const settle = () => new Promise(resolve => setTimeout(resolve, 50));
const busy = (id: string) => (err: unknown) => isFailedPrecondition(err) && (err as Error).message.includes(id);

test('RemovePodSandbox while StopPodSandbox runs fails FAILED_PRECONDITION; the stop completes', async () => {
  const f = await setup(1);
  const stopping = f.teardown.stop(f.id, signal());
  await settle();
  await assert.rejects(f.teardown.remove(f.id, signal()), busy(f.id));
  f.release();
  await stopping;
  assert.equal(f.store.get(f.id).status.state, 'notready');
  assert.equal(f.network.countOf('detach'), 1);
  assert.equal(f.netns.pinned.size, 0);
  // Once the stop is done, the kubelet's retry removes it.
  await f.teardown.remove(f.id, signal());
  assert.equal(f.store.find(f.id), undefined);
});

test('StopPodSandbox while RemovePodSandbox runs fails FAILED_PRECONDITION; the remove completes', async () => {
  const f = await setup(2);
  const removing = f.teardown.remove(f.id, signal());
  await settle();
  await assert.rejects(f.teardown.stop(f.id, signal()), busy(f.id));
  f.release();
  await removing;
  assert.equal(f.store.find(f.id), undefined);
  assert.equal(f.network.countOf('detach'), 1);
  assert.equal(f.containerd.containerRecords.has(f.id), false);
});

test('two StopPodSandbox at once: the second fails FAILED_PRECONDITION and does not detach again', async () => {
  const f = await setup(3);
  const first = f.teardown.stop(f.id, signal());
  await settle();
  await assert.rejects(f.teardown.stop(f.id, signal()), busy(f.id));
  f.release();
  await first;
  assert.equal(f.network.countOf('detach'), 1);
  // Idempotent afterwards.
  await f.teardown.stop(f.id, signal());
  assert.equal(f.store.get(f.id).status.state, 'notready');
});

test('RemovePodSandbox after a stop whose pause task containerd deleted reads no spec and looks for no lost task', async () => {
  const f = await setup(4);
  f.release();
  const tasks = new Set([f.id as string]);
  f.containerd.handle('tasks.get', req => {
    if (!tasks.has(req.containerId)) throw new NotFoundError(`task ${req.containerId}`);
    return { process: { pid: 0, status: 3 } };
  });
  f.containerd.handle('tasks.delete', req => { tasks.delete(req.containerId); return {}; });
  await f.teardown.stop(f.id, signal());
  assert.equal(tasks.size, 0, 'the stop deleted the pause task');
  await f.teardown.remove(f.id, signal());
  assert.equal(f.containerd.requestsTo('containers.get').length, 0);
  assert.equal(f.store.find(f.id), undefined);
});

test('RemovePodSandbox of a pause task containerd does not know reads the spec, for the cgroup a lost task may have left', async () => {
  const f = await setup(5);
  f.release();
  await f.teardown.remove(f.id, signal());
  assert.equal(f.containerd.requestsTo('containers.get').length, 1);
  assert.equal(f.store.find(f.id), undefined);
});
