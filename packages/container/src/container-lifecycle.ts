import { inject, injectable } from 'inversify';
import type { Any } from '@crikit/api';
import {
  cgroupsPathOf, nowNs, removeTaskLeftovers, timestampNs, ContainerdClient, ContainerLogWriter, ContainerStore, deadline, deleteTask, destroyTask, FailedPreconditionError,
  getTask, ignoreNotFound, isLive, killTask, Logger, RuntimeEventBus, SandboxStore, Signals, Snapshotter, waitTask,
  type ContainerId, type ContainerRecord, type SandboxId,
} from '@crikit/core';
import { AttachHub } from './attach-hub.js';
import { ContainerExits } from './container-exits.js';
import { ContainerIo, type ProcessIo } from './container-io.js';
import { ImageVolumes } from './image-volumes.js';
import { signalNumber } from './signals.js';

/** How StartContainer creates the task. */
export interface StartOptions {
  /** The runtime's options for this task (containerd's task Create `options`): a restore's criu paths. */
  readonly taskOptions?: Any | undefined;
}

/** StartContainer, StopContainer and RemoveContainer on containerd tasks. */
@injectable()
export class ContainerLifecycle {
  constructor(
    @inject(ContainerStore) private readonly store: ContainerStore,
    @inject(SandboxStore) private readonly sandboxes: SandboxStore,
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(ContainerIo) private readonly io: ContainerIo,
    @inject(ContainerLogWriter) private readonly logs: ContainerLogWriter,
    @inject(ContainerExits) private readonly exits: ContainerExits,
    @inject(AttachHub) private readonly hub: AttachHub,
    @inject(RuntimeEventBus) private readonly bus: RuntimeEventBus,
    @inject(Snapshotter) private readonly snapshotter: string,
    @inject(Logger) private readonly log: Logger,
    @inject(ImageVolumes) private readonly volumes: ImageVolumes,
  ) {}

  /** Starts a created container; see core's ContainerManager.start. `options.taskOptions` go to containerd's task Create. */
  async start(id: ContainerId, signal: AbortSignal, options: StartOptions = {}): Promise<void> {
    const record = this.store.get(id);
    const what = `start container ${record.metadata.name}`;
    if (record.status.state !== 'created') throw new FailedPreconditionError(`${what}: it is ${record.status.state}, not created`);
    const sandbox = this.sandboxes.get(record.metadata.sandboxId);
    if (sandbox.status.state !== 'ready') throw new FailedPreconditionError(`${what}: its sandbox ${sandbox.metadata.id} is not ready`);
    const podBusy = podWentAway(this.sandboxes, sandbox.metadata.id, what);
    if (podBusy) throw podBusy;
    // Taken before the first await: a concurrent Start or Remove of this container fails here,
    // before it could touch (or, on its failure path, undo) anything this call makes.
    const end = this.store.beginOperation(id, 'starting');
    try {
      await this.startTask(record, signal, options);
    } catch (err) {
      // A StopPodSandbox or RemovePodSandbox that ran meanwhile took the pod's namespaces away: runc's
      // error would not say so.
      throw podWentAway(this.sandboxes, sandbox.metadata.id, what, err) ?? err;
    } finally {
      end();
    }
  }

  private async startTask(record: ContainerRecord, signal: AbortSignal, options: StartOptions): Promise<void> {
    const id = record.metadata.id;
    const tty = record.metadata.config.tty;
    let io: ProcessIo | undefined;
    try {
      io = await this.io.open(id, id, { tty, stdin: record.metadata.config.stdin });
      await this.attachLogs(record, io);
      const { mounts } = await this.containerd.snapshots.mounts({ snapshotter: this.snapshotter, key: id }, { signal });
      await this.containerd.tasks.create({ containerId: id, rootfs: mounts, stdin: io.paths.stdin, stdout: io.paths.stdout, stderr: io.paths.stderr, terminal: tty, options: options.taskOptions }, { signal });
      const { pid } = await this.containerd.tasks.start({ containerId: id }, { signal });
      const now = nowNs();
      // A process that exits at once may have been recorded as exited already: keep that.
      const started = this.store.update(id, s => (s.state === 'exited'
        ? { ...s, startedAt: s.finishedAt < now ? s.finishedAt : now }
        : { ...s, state: 'running', pid, startedAt: now }));
      await this.exits.persist(started, signal);
      this.log.info({ container: id, pid }, 'container started');
      this.bus.emit('container:started', started);
    } catch (err) {
      // CRI: a container that failed to start is exited, with reason StartError and the cause.
      io?.destroy();
      const cleanup = AbortSignal.timeout(30_000);
      await destroyTask(this.containerd, id, cleanup).catch(() => undefined);
      await this.logs.close(id, cleanup).catch(() => undefined);
      await this.io.remove(id);
      const failed = this.store.update(id, s => ({ ...s, state: 'exited', pid: 0, exitCode: 128, reason: 'StartError', message: (err as Error).message, finishedAt: nowNs() }));
      await this.exits.persist(failed, cleanup).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Attaches the container's output to its CRI log file and to the AttachHub (which also takes its
   * stdin). Without a log path the output is drained and dropped: an unread FIFO would block the
   * container once the pipe fills.
   */
  async attachLogs(record: ContainerRecord, io: ProcessIo): Promise<void> {
    const { id, sandboxId, logPath, config } = record.metadata;
    const onClosed = (): void => {
      void this.io.markStdinClosed(id).catch(err => this.log.warn({ container: id, err }, 'remember that stdin_once closed stdin'));
    };
    const output = this.hub.tap(id, io.output, io.input ? { writer: io.input, once: config.stdinOnce, onClosed } : undefined);
    if (logPath) {
      await this.logs.attach({ containerId: id, sandboxId, logPath, tty: config.tty }, output, AbortSignal.timeout(10_000));
    } else {
      output.stdout?.resume();
      output.stderr?.resume();
    }
  }

  /**
   * The stop signal, up to `timeoutSeconds` for the task to exit, then SIGKILL.
   * CRI: StopContainer is idempotent; a created, exited or unknown container is success.
   */
  async stop(id: ContainerId, timeoutSeconds: number, signal: AbortSignal): Promise<void> {
    const record = this.store.find(id);
    if (!record || record.status.state !== 'running') return;
    if (timeoutSeconds > 0) {
      const graceful = deadline(signal, timeoutSeconds * 1000);
      const waiting = waitTask(this.containerd, id, graceful.signal).catch(() => undefined);
      await killTask(this.containerd, id, signalNumber(record.metadata.stopSignal), { signal });
      const exited = await waiting;
      graceful.dispose();
      if (exited || !(await this.isRunning(id, signal))) {
        await this.exits.record(id, exited?.exitStatus ?? 0, timestampNs(exited?.exitedAt));
        return;
      }
      this.log.info({ container: id, timeoutSeconds }, 'stop timeout passed; killing');
    }
    const waiting = waitTask(this.containerd, id, signal);
    await killTask(this.containerd, id, Signals.SIGKILL, { all: true, signal });
    const exited = await waiting;
    await this.exits.record(id, exited?.exitStatus ?? 137, timestampNs(exited?.exitedAt));
  }

  /**
   * Kills, then removes everything the container has. CRI: RemoveContainer is idempotent; but
   * while a Start or another Remove of it runs, it fails FAILED_PRECONDITION (as containerd's CRI).
   */
  async remove(id: ContainerId, signal: AbortSignal): Promise<void> {
    const record = this.store.find(id);
    if (!record) return;
    const end = this.store.beginOperation(id, 'removing');
    try {
      await this.removeAll(record, signal);
    } finally {
      end();
    }
  }

  private async removeAll(record: ContainerRecord, signal: AbortSignal): Promise<void> {
    const id = record.metadata.id;
    if (record.status.state === 'running') await this.stop(id, 0, signal);
    // An exit being recorded (the status already says exited) finishes first: its task Delete and its
    // STOPPED event come before the removal's own, never beside or after them.
    await this.exits.settled(id);
    // Once its exit is recorded the task is gone already: no second Delete (containerd's CRI makes none).
    // A task still running though the record is not (a StartContainer cut short by a crikitd kill or a
    // containerd restart left it) cannot be deleted: it is killed first.
    // A cgroup left frozen (a `runc kill --all` cut short by a containerd kill) is thawed first.
    const taskDeleted = this.exits.takeDeletedTask(id) || await deleteTask(this.containerd, id, signal)
      .catch(async () => destroyTask(this.containerd, id, signal, await cgroupsPathOf(this.containerd, id, signal)));
    // When containerd deleted the task it shut the shim down itself: nothing of the task is left. Otherwise
    // containerd may have lost track of one (killed during StartContainer's task Create), and what it left
    // is looked for below: a /proc walk, too slow for every removal.
    const lostTaskCgroups = taskDeleted ? undefined : { path: await cgroupsPathOf(this.containerd, id, signal) };
    // Before the containerd container goes: its GC labels hold the volumes' snapshots while they are mounted.
    await this.volumes.release(record, signal);
    // The record, the rootfs snapshot and the log writer go at once: none needs another gone first.
    await Promise.all([
      ignoreNotFound(this.containerd.containers.delete({ id }, { signal })),
      ignoreNotFound(this.containerd.snapshots.remove({ snapshotter: this.snapshotter, key: id }, { signal })),
      this.logs.close(id, AbortSignal.timeout(5_000)).catch(() => undefined),
    ]);
    // What a task containerd lost track of (it was killed during StartContainer's task Create) left behind.
    if (lostTaskCgroups) {
      const left = await removeTaskLeftovers(id, lostTaskCgroups.path);
      if (left.shims.length + left.processes.length + left.cgroups.length > 0) this.log.info({ container: id, ...left }, 'removed what a lost task left');
    }
    this.hub.forget(id);
    await this.io.remove(id);
    this.store.delete(id);
    this.log.info({ container: id }, 'container removed');
    this.bus.emit('container:removed', record);
  }

  private async isRunning(id: string, signal: AbortSignal): Promise<boolean> {
    return isLive(await getTask(this.containerd, id, signal).catch(() => undefined));
  }
}

/**
 * A FAILED_PRECONDITION naming the pod when sandbox `id` is gone, not ready, or being stopped or
 * removed (`cause` is the error that made the caller ask); undefined while it is ready and idle.
 */
function podWentAway(sandboxes: SandboxStore, id: SandboxId, what: string, cause?: unknown): FailedPreconditionError | undefined {
  const sandbox = sandboxes.find(id);
  const busy = sandbox && sandboxes.operation(id);
  if (sandbox && sandbox.status.state === 'ready' && !busy) return undefined;
  const meta = sandbox?.metadata.config.metadata;
  const pod = meta ? `pod ${meta.namespace}/${meta.name} (sandbox ${id})` : `sandbox ${id}`;
  const now = !sandbox ? 'was removed' : busy ? `is ${busy}` : 'was stopped';
  const why = cause === undefined ? '' : `: ${(cause as Error).message}`;
  return new FailedPreconditionError(`${what}: its ${pod} ${now}${cause === undefined ? '' : ' meanwhile'}${why}`, { cause });
}
