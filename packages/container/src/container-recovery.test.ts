// Start-up recovery of a container whose StartContainer a crikitd kill cut short, against fakes: the
// record still says created while containerd has its task (created, running or stopped).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { taskTypes } from '@crikit/api';
import {
  AlreadyExistsError, ContainerdEventMonitor, ContainerStore, CrikitKeys, encodeContainerMetadata, encodeContainerStatus, jsonAny,
  RuntimeEventBus, silentLogger,
} from '@crikit/core';
import { FakeLogWriter } from '@crikit/core/testing';
import { ContainerExits } from './container-exits.js';
import { ContainerInspection } from './container-inspection.js';
import { lifecycleFixture } from './container-lifecycle-fixtures.js';
import { ContainerRecovery } from './container-recovery.js';
import { rootfsMountsDir } from './rootfs-user-db.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-container-recovery-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
const signal = () => AbortSignal.timeout(10_000);

/** A lifecycle fixture as a restarted crikitd finds it: the created container only in containerd, with a task of `status`. */
async function restartedWith(n: number, status: number, beforeStart?: (paths: { rootDir: string; stateDir: string }, id: string) => void) {
  const paths = { rootDir: path.join(root, `root-${n}`), stateDir: path.join(root, `state-${n}`) };
  const f = await lifecycleFixture(paths);
  const record = f.store.get(f.id);
  await f.containerd.containers.update({
    container: {
      id: f.id, labels: { [CrikitKeys.kind]: 'container', 'io.cri-containerd.sandbox-id': record.metadata.sandboxId },
      extensions: {
        [CrikitKeys.containerMetadata]: jsonAny(CrikitKeys.containerMetadata, encodeContainerMetadata(record.metadata)),
        [CrikitKeys.containerStatus]: jsonAny(CrikitKeys.containerStatus, encodeContainerStatus(record.status)),
      },
    },
    updateMask: ['labels', 'extensions'],
  });
  f.store.delete(f.id);
  f.tasks.set(f.id, { pid: 4242, status });
  // As containerd: a second task for one container is refused.
  f.containerd.handle('tasks.create', req => {
    if (f.tasks.has(req.containerId)) throw new AlreadyExistsError(`task ${req.containerId}: already exists`);
    f.tasks.set(req.containerId, { pid: 0, status: taskTypes.Status.CREATED });
    return { containerId: req.containerId, pid: 0 };
  });
  const bus = new RuntimeEventBus(silentLogger);
  const exits = new ContainerExits(f.containerd, f.store, new ContainerdEventMonitor(f.containerd, silentLogger), new FakeLogWriter(), f.io, bus, silentLogger);
  const recovery = new ContainerRecovery(f.containerd, f.store, f.io, f.lifecycle, exits, new ContainerInspection(new ContainerStore(), bus), silentLogger, paths);
  beforeStart?.(paths, f.id);
  await recovery.start(signal());
  return { ...f, paths };
}

test('a task created but never started is killed and deleted; the container stays created and StartContainer works', async () => {
  const f = await restartedWith(1, taskTypes.Status.CREATED);
  assert.equal(f.tasks.has(f.id), false, 'the task the killed StartContainer created is gone');
  assert.equal(f.store.get(f.id).status.state, 'created');
  await f.lifecycle.start(f.id, signal());
  assert.equal(f.store.get(f.id).status.state, 'running');
});

test('a task the killed StartContainer had started makes the container running', async () => {
  const f = await restartedWith(2, taskTypes.Status.RUNNING);
  const s = f.store.get(f.id).status;
  assert.equal(s.state, 'running');
  assert.equal(s.pid, 4242);
  assert.ok(s.startedAt > 0n);
  await f.lifecycle.stop(f.id, 0, signal());
  assert.equal(f.store.get(f.id).status.state, 'exited');
});

test('a task that started and exited while crikit was down records its exit', async () => {
  const f = await restartedWith(3, taskTypes.Status.STOPPED);
  const s = f.store.get(f.id).status;
  assert.equal(s.state, 'exited');
  assert.equal(f.tasks.has(f.id), false, 'the stopped task is deleted');
});

test('start-up sweeps the state dirs of unknown containers and the rootfs mounts a killed CreateContainer left', async () => {
  let mountpoint = '';
  const f = await restartedWith(4, taskTypes.Status.RUNNING, (paths, id) => {
    for (const owner of [id, 'f'.repeat(64)]) fs.mkdirSync(path.join(paths.stateDir, 'containers', owner), { recursive: true });
    mountpoint = path.join(rootfsMountsDir(paths), 'crikit-rootfs-killed');
    fs.mkdirSync(mountpoint, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountpoint]);
  });
  const mounted = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some(l => l.split(' ')[4] === mountpoint);
  if (mounted) execFileSync('umount', [mountpoint]);
  assert.equal(mounted, false, 'the rootfs mount is gone');
  assert.equal(fs.existsSync(mountpoint), false);
  assert.deepEqual(fs.readdirSync(path.join(f.paths.stateDir, 'containers')), [f.id], 'only the known container keeps its state dir');
});
