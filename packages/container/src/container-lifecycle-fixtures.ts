import { PassThrough } from 'node:stream';
import { after } from 'node:test';
import { ContainerdEventMonitor, DirectProcessRunner, NotFoundError, RuntimeEventBus, silentLogger, type ContainerRecord, type SandboxRecord } from '@crikit/core';
import { containerRecord, containerStoreWith, FakeContainerd, FakeLogWriter, sandboxRecord, sandboxStoreWith } from '@crikit/core/testing';
import { AttachHub } from './attach-hub.js';
import { ContainerExits } from './container-exits.js';
import { ContainerIo, type ProcessIo } from './container-io.js';
import { ContainerLifecycle } from './container-lifecycle.js';
import { ImageVolumes } from './image-volumes.js';

/** ContainerIo with in-memory streams instead of FIFOs, for unit tests; `endAll` is the shim closing them (the task exited). */
export class MemoryIo extends ContainerIo {
  private readonly streams: PassThrough[] = [];
  override async open(): Promise<ProcessIo> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    this.streams.push(stdout, stderr);
    return { paths: { stdin: '', stdout: 'stdout', stderr: 'stderr' }, output: { stdout, stderr }, destroy: () => { stdout.destroy(); stderr.destroy(); } };
  }
  endAll(): void {
    for (const s of this.streams) s.end();
  }
}

/**
 * A ContainerLifecycle over a container in a ready pod, on a fake containerd whose tasks behave: a
 * table of tasks that create, start, get, kill (ending the output), wait (exit 137) and delete fill
 * and empty. A test replaces any handler with `containerd.handle` to hold or fail a call.
 */
export async function lifecycleFixture(dirs: { rootDir: string; stateDir: string },
  make: (pod: SandboxRecord) => ContainerRecord = pod => containerRecord({}, pod)) {
  const pod = sandboxRecord();
  const record = make(pod);
  const id = record.metadata.id;
  const store = containerStoreWith([record]);
  const containerd = new FakeContainerd();
  const io = new MemoryIo(dirs as never);
  await containerd.containers.create({ container: { id, labels: {} } });
  const tasks = new Map<string, { pid: number; status: number }>();
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
  containerd.handle('tasks.delete', req => { tasks.delete(req.containerId); return {}; });
  const logs = new FakeLogWriter();
  const bus = new RuntimeEventBus(silentLogger);
  const exits = new ContainerExits(containerd, store, new ContainerdEventMonitor(containerd, silentLogger), logs, io, bus, silentLogger);
  const sandboxes = sandboxStoreWith([pod]);
  const lifecycle = new ContainerLifecycle(store, sandboxes, containerd, io, logs, exits, new AttachHub(containerd), bus, 'overlayfs', silentLogger,
    new ImageVolumes(containerd, store, dirs, 'overlayfs', silentLogger, new DirectProcessRunner()));
  after(() => io.endAll());
  return { lifecycle, store, containerd, tasks, id, io, sandboxes, pod, exits, bus };
}
