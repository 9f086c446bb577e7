import { inject, injectable } from 'inversify';
import {
  nowNs, ContainerdClient, ContainerdEventMonitor, ContainerLogWriter, ContainerStore, CrikitKeys, deleteTask,
  encodeContainerStatus, Logger, missedExits, RuntimeEventBus, SerialRuns, StartOrder, writeExtension,
  type ContainerId, type ContainerRecord, type Startable, type TaskExit,
} from '@crikit/core';
import { ContainerIo } from './container-io.js';

/**
 * Records container exits: from containerd's event stream, from StopContainer's own wait, and from
 * recovery. Recording is idempotent (the first report wins), waits for the log to drain so the
 * kubelet never sees an exit before the last lines, deletes the task, and persists the status.
 */
@injectable()
export class ContainerExits implements Startable {
  readonly startName = 'container exit recorder';
  // Before recovery, so exits seen while recovering are not missed.
  readonly startOrder = StartOrder.events + 1;
  private readonly oomKilled = new Set<string>();
  private readonly recording = new Map<string, Promise<ContainerRecord | undefined>>();
  /** Containers whose task this recorder deleted, so RemoveContainer need not (in memory: a restart forgets). */
  private readonly deletedTasks = new Set<string>();
  private readonly reconciles = new SerialRuns(err => this.log.warn({ err }, 'reconcile container exits'));

  constructor(
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(ContainerStore) private readonly store: ContainerStore,
    @inject(ContainerdEventMonitor) private readonly monitor: ContainerdEventMonitor,
    @inject(ContainerLogWriter) private readonly logs: ContainerLogWriter,
    @inject(ContainerIo) private readonly io: ContainerIo,
    @inject(RuntimeEventBus) private readonly bus: RuntimeEventBus,
    @inject(Logger) private readonly log: Logger,
  ) {}

  private readonly onExit = (exit: TaskExit): void => {
    // Exec processes exit too; only a task's init process ends the container.
    if (exit.id !== exit.containerId || !this.store.find(exit.containerId)) return;
    void this.record(exit.containerId as ContainerId, exit.exitStatus, exit.exitedAt)
      .catch(err => this.log.warn({ container: exit.containerId, err }, 'record container exit'));
  };

  private readonly onOom = (containerId: string): void => {
    if (this.store.find(containerId)) this.oomKilled.add(containerId);
  };

  // Exits that happened while the stream was down never arrive as events: look for them.
  private readonly onSubscribed = (): void => {
    this.reconciles.run(() => this.reconcile(AbortSignal.timeout(60_000)));
  };

  async start(): Promise<void> {
    this.monitor.events.on('task:exited', this.onExit);
    this.monitor.events.on('task:oom-killed', this.onOom);
    this.monitor.events.on('stream:subscribed', this.onSubscribed);
  }

  async stop(): Promise<void> {
    this.monitor.events.off('task:exited', this.onExit);
    this.monitor.events.off('task:oom-killed', this.onOom);
    this.monitor.events.off('stream:subscribed', this.onSubscribed);
    await this.reconciles.idle();
  }

  /**
   * Records the exits containerd's event stream missed (containerd restarted, the stream broke): each
   * container the store has running whose task stopped or vanished. Idempotent; runs after every subscription.
   */
  async reconcile(signal: AbortSignal): Promise<void> {
    const running = this.store.list(r => r.status.state === 'running').map(r => r.metadata.id);
    for (const exit of await missedExits(this.containerd, running, signal)) {
      this.log.info({ container: exit.containerId, exitCode: exit.exitStatus }, 'exit missed by the event stream');
      await this.record(exit.containerId as ContainerId, exit.exitStatus, exit.exitedAt);
    }
  }

  /**
   * Marks the container exited with `exitCode` (reason OOMKilled, Completed or Error, as containerd's
   * CRI), unless it already is. Resolves with the record once it is stored and persisted.
   */
  record(id: ContainerId, exitCode: number, exitedAt: bigint): Promise<ContainerRecord | undefined> {
    const running = this.recording.get(id);
    if (running) return running;
    const p = this.doRecord(id, exitCode, exitedAt).finally(() => this.recording.delete(id));
    this.recording.set(id, p);
    return p;
  }

  private async doRecord(id: ContainerId, exitCode: number, exitedAt: bigint): Promise<ContainerRecord | undefined> {
    const current = this.store.find(id);
    // 'created' too: a process can exit before StartContainer has recorded it running.
    if (!current || current.status.state === 'exited') return current;
    const signal = AbortSignal.timeout(30_000);
    // The last lines first: once the status says exited, the kubelet may read the log to its end.
    await this.logs.close(id, AbortSignal.timeout(5_000)).catch(() => undefined);
    await this.io.remove(id);
    const reason = this.oomKilled.delete(id) ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
    const record = this.store.update(id, s => ({
      ...s, state: 'exited', pid: 0, exitCode, reason,
      finishedAt: exitedAt > 0n ? exitedAt : nowNs(),
    }));
    await deleteTask(this.containerd, id, signal).then(
      deleted => { if (deleted) this.deletedTasks.add(id); },
      err => this.log.warn({ container: id, err }, 'delete exited task'),
    );
    await this.persist(record, signal);
    this.log.info({ container: id, exitCode, reason }, 'container exited');
    this.bus.emit('container:exited', record, exitCode);
    return record;
  }

  /** Resolves once no exit of container `id` is being recorded (at once when none is). Never rejects. */
  async settled(id: ContainerId): Promise<void> {
    await this.recording.get(id)?.catch(() => undefined);
  }

  /**
   * Whether this recorder deleted the exited task of container `id`; answers true once, as RemoveContainer
   * asks: a removal that fails after it and is retried deletes again (a missing task is no error).
   */
  takeDeletedTask(id: ContainerId): boolean {
    return this.deletedTasks.delete(id);
  }

  /** Writes the container's status into its containerd container, so a restart sees it. */
  async persist(record: ContainerRecord, signal: AbortSignal): Promise<void> {
    await writeExtension(this.containerd, record.metadata.id, CrikitKeys.containerStatus, encodeContainerStatus(record.status), signal);
  }
}
