// RunPodSandbox against fakes: a failure at any step leaves nothing behind.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { cri } from '@crikit/api';
import {
  AlreadyExistsError, CancelledError, cgroupConfigSchema, NotFoundError, RuntimeEventBus, runtimesConfigSchema, silentLogger, UnavailableError,
  UndoRetries, type ContainerdEventMonitor, type SandboxStore,
} from '@crikit/core';
import { FakeContainerd, FakeImageService, FakeNetworkNamespaces, FakePodNetwork, imageRecord, sandboxStoreWith } from '@crikit/core/testing';
import { sandboxConfigSchema } from './sandbox-config.js';
import { SandboxInspection } from './sandbox-inspection.js';
import { SandboxRunner } from './sandbox-run.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-sandbox-run-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const pause = imageRecord({
  status: { repoTags: ['registry.k8s.io/pause:3.10'], pinned: true },
  metadata: { spec: { architecture: 'amd64', os: 'linux', config: { Entrypoint: ['/pause'], User: '65535:65535' }, rootfs: { type: 'layers', diff_ids: [] } } as never },
});

function setup(n: number, undoRetries?: (containerd: FakeContainerd) => UndoRetries) {
  const store: SandboxStore = sandboxStoreWith([]);
  const images = new FakeImageService();
  images.store.add(pause);
  const network = new FakePodNetwork();
  const netns = new FakeNetworkNamespaces(path.join(root, `netns-${n}`));
  const containerd = new FakeContainerd();
  const tasks = new Map<string, number>();
  const snapshots = new Set<string>();
  containerd.handle('snapshots.prepare', req => { snapshots.add(req.key); return { mounts: [] }; });
  containerd.handle('snapshots.remove', req => { snapshots.delete(req.key); return {}; });
  containerd.handle('tasks.create', req => { tasks.set(req.containerId, 0); return { containerId: req.containerId, pid: 0 }; });
  containerd.handle('tasks.start', req => { tasks.set(req.containerId, 4242); return { pid: 4242 }; });
  containerd.handle('tasks.get', req => {
    if (!tasks.has(req.containerId)) throw new NotFoundError(`task ${req.containerId}`);
    return { process: { containerId: req.containerId, pid: tasks.get(req.containerId), status: 2 } };
  });
  containerd.handle('tasks.kill', () => ({}));
  containerd.handle('tasks.wait', () => ({ exitStatus: 137 }));
  containerd.handle('tasks.delete', req => { tasks.delete(req.containerId); return {}; });
  const paths = { rootDir: path.join(root, `root-${n}`), stateDir: path.join(root, `state-${n}`) };
  const bus = new RuntimeEventBus(silentLogger);
  const runner = new SandboxRunner(store, images, network, netns, containerd, bus,
    sandboxConfigSchema.parse({ sandboxImage: 'registry.k8s.io/pause:3.10' }), paths,
    runtimesConfigSchema.parse({ restrictOomScoreAdj: true }), cgroupConfigSchema.parse({}), 'overlayfs', silentLogger,
    new SandboxInspection(bus), undoRetries?.(containerd));
  const leftovers = async () => ({
    names: store.nameHolder(`web_default_uid-${n}_0`),
    netns: [...netns.pinned],
    attached: [...network.attached.keys()],
    containers: (await containerd.containers.list({})).containers.length,
    snapshots: [...snapshots],
    tasks: [...tasks.keys()],
    files: fs.existsSync(path.join(paths.rootDir, 'sandboxes')) ? fs.readdirSync(path.join(paths.rootDir, 'sandboxes')) : [],
    state: fs.existsSync(path.join(paths.stateDir, 'sandboxes')) ? fs.readdirSync(path.join(paths.stateDir, 'sandboxes')) : [],
  });
  return { runner, store, images, network, netns, containerd, leftovers };
}

const request = (n: number) => cri.RunPodSandboxRequest.fromPartial({
  config: {
    metadata: { name: 'web', namespace: 'default', uid: `uid-${n}`, attempt: 0 },
    linux: { securityContext: { namespaceOptions: { ipc: cri.NamespaceMode.NODE } } },
  },
});
const clean = { names: undefined, netns: [], attached: [], containers: 0, snapshots: [], tasks: [], files: [], state: [] };

test('a sandbox runs: netns pinned, network attached, container, snapshot and task made', async () => {
  const f = setup(0);
  const id = await f.runner.run(request(0), AbortSignal.timeout(10_000));
  const record = f.store.get(id);
  assert.equal(record.status.state, 'ready');
  assert.equal(record.status.pid, 4242);
  assert.match(record.status.ip, /^10\./);
  assert.equal(f.netns.pinned.size, 1);
  const created = f.containerd.requestsTo('containers.create')[0]!.container!;
  assert.equal(created.labels['io.cri-containerd.kind'], 'sandbox');
  assert.equal(created.runtime?.name, 'io.containerd.runc.v2');
  assert.equal(JSON.parse(Buffer.from(created.spec!.value).toString()).process.args[0], '/pause');
});

// Each step of RunPodSandbox, failed in turn, by what it calls.
const steps: [string, (f: ReturnType<typeof setup>) => void][] = [
  ['netns', f => { f.netns.create = async () => { throw new UnavailableError('unshare failed'); }; }],
  ['network attach', f => f.network.failNext('attach', new UnavailableError('cni add failed'))],
  ['containers.create', f => f.containerd.failNext('containers.create', new UnavailableError('containerd down'))],
  ['snapshots.prepare', f => f.containerd.failNext('snapshots.prepare', new UnavailableError('snapshotter broke'))],
  ['tasks.create', f => f.containerd.failNext('tasks.create', new UnavailableError('runc failed'))],
  ['tasks.start', f => f.containerd.failNext('tasks.start', new UnavailableError('start failed'))],
];
for (const [i, [step, fail]] of steps.entries()) {
  test(`a failure at ${step} undoes every earlier step`, async () => {
    const n = i + 1;
    const f = setup(n);
    fail(f);
    await assert.rejects(f.runner.run(request(n), AbortSignal.timeout(10_000)), UnavailableError);
    assert.deepEqual(await f.leftovers(), clean);
    assert.equal(f.store.list().length, 0);
  });
}

test('the pause image is pulled and pinned when missing; a failed pull leaves nothing', async () => {
  const f = setup(9);
  f.images.store.delete(pause.metadata.id);
  f.images.failNext('pull', new NotFoundError('pause image not found'));
  await assert.rejects(f.runner.run(request(9), AbortSignal.timeout(10_000)), NotFoundError);
  assert.deepEqual(await f.leftovers(), clean);
  assert.deepEqual(f.images.argsOf('pull')[0]?.slice(0, 2), ['registry.k8s.io/pause:3.10', { pin: true }]);
});

test('a retried RunPodSandbox whose first attempt is still running waits for it and returns its id', async () => {
  const f = setup(20);
  let release!: () => void;
  const held = new Promise<void>(resolve => { release = resolve; });
  f.containerd.handle('tasks.start', async () => { await held; return { pid: 4242 }; });
  // The kubelet's deadline passes while the pause task is starting.
  const kubelet = new AbortController();
  const first = f.runner.run(request(20), kubelet.signal);
  await new Promise(resolve => setTimeout(resolve, 50));
  kubelet.abort();
  await assert.rejects(first, CancelledError);
  const retry = f.runner.run(request(20), AbortSignal.timeout(10_000));
  const concurrent = f.runner.run(request(20), AbortSignal.timeout(10_000));
  release();
  const id = await retry;
  assert.equal(await concurrent, id);
  assert.equal(f.store.get(id).status.state, 'ready');
  assert.equal(f.store.list().length, 1);
  assert.equal(f.containerd.requestsTo('containers.create').length, 1, 'one attempt made one sandbox');
});

test('a retry joins an attempt that finished after its caller went away; a different request still gets ALREADY_EXISTS', async () => {
  const f = setup(21);
  let release!: () => void;
  const held = new Promise<void>(resolve => { release = resolve; });
  f.containerd.handle('tasks.start', async () => { await held; return { pid: 4242 }; });
  const kubelet = new AbortController();
  const first = f.runner.run(request(21), kubelet.signal);
  await new Promise(resolve => setTimeout(resolve, 50));
  kubelet.abort();
  await assert.rejects(first, CancelledError);
  release();
  await new Promise(resolve => setTimeout(resolve, 50));
  const other = request(21);
  other.config!.labels = { changed: 'yes' };
  await assert.rejects(f.runner.run(other, AbortSignal.timeout(10_000)), AlreadyExistsError);
  const id = await f.runner.run(request(21), AbortSignal.timeout(10_000));
  assert.equal(f.store.get(id).status.state, 'ready');
  assert.equal(f.containerd.requestsTo('containers.create').length, 1);
});

test('CNI failing while containerd creates the pause task: the task containerd finishes anyway is destroyed', async () => {
  const f = setup(30);
  // CNI fails while containerd is creating the task.
  f.network.attach = async () => {
    await new Promise(r => setTimeout(r, 20));
    throw new UnavailableError('cni plugin failed');
  };
  const tasks = new Set<string>();
  // containerd goes on with a call whose client gave up: the task (and its shim) exist all the same.
  f.containerd.handle('tasks.create', async (req, opts) => {
    await new Promise(r => setTimeout(r, 50));
    tasks.add(req.containerId);
    if (opts.signal?.aborted) throw new CancelledError('tasks.create: cancelled');
    return { containerId: req.containerId, pid: 0 };
  });
  f.containerd.handle('tasks.get', req => {
    if (!tasks.has(req.containerId)) throw new NotFoundError(`task ${req.containerId}`);
    return { process: { containerId: req.containerId, pid: 7, status: 1 } };
  });
  f.containerd.handle('tasks.delete', req => { tasks.delete(req.containerId); return {}; });
  await assert.rejects(f.runner.run(request(30), AbortSignal.timeout(10_000)), UnavailableError);
  assert.deepEqual([...tasks], [], 'no task (no shim) outlives the failed RunPodSandbox');
  assert.deepEqual({ ...(await f.leftovers()), tasks: [] }, clean);
});

test('what containerd was down for during the rollback (task, snapshot, container) is undone once it is back', async () => {
  const events = new EventEmitter();
  let undo!: UndoRetries;
  const f = setup(40, containerd => (undo = new UndoRetries(containerd, { events } as unknown as ContainerdEventMonitor, silentLogger, 'overlayfs')));
  f.containerd.failNext('tasks.start', new UnavailableError('containerd down'));
  for (const m of ['tasks.get', 'snapshots.remove', 'containers.delete'] as const) f.containerd.failNext(m, new UnavailableError('containerd down'));
  await assert.rejects(f.runner.run(request(40), AbortSignal.timeout(10_000)), UnavailableError);
  const left = await f.leftovers();
  assert.equal(left.containers, 1, 'the rollback could not delete the container');
  assert.deepEqual([left.snapshots.length, left.tasks.length], [1, 1]);
  await undo.start(AbortSignal.timeout(10_000));
  events.emit('stream:subscribed');
  await undo.idle();
  await undo.stop();
  assert.deepEqual(await f.leftovers(), clean);
});
