import { inject, injectable } from 'inversify';
import { taskTypes } from '@crikit/api';
import {
  ContainerdClient, ContainerdEventMonitor, CrikitKeys, deleteTask, destroyTask, getKnownTask, isLive, isUnknown, Logger, missedExits, parseJsonAny,
  recoverSandboxRecord, RuntimeEventBus, SandboxStore, SerialRuns, specJsonOf, StartOrder, type SandboxId, type Startable, type TaskExit,
} from '@crikit/core';
import { SandboxInspection } from './sandbox-inspection.js';
import { SandboxTeardown } from './sandbox-teardown.js';

/**
 * Rebuilds the sandbox store from containerd at start-up and keeps it true afterwards: a pause
 * process that exits makes its sandbox NOTREADY, whether crikit was running then or not.
 */
@injectable()
export class SandboxRecovery implements Startable {
  readonly startName = 'sandbox recovery';
  readonly startOrder = StartOrder.recovery;

  constructor(
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(SandboxStore) private readonly store: SandboxStore,
    @inject(ContainerdEventMonitor) private readonly monitor: ContainerdEventMonitor,
    @inject(SandboxTeardown) private readonly teardown: SandboxTeardown,
    @inject(RuntimeEventBus) private readonly bus: RuntimeEventBus,
    @inject(Logger) private readonly log: Logger,
    @inject(SandboxInspection) private readonly inspection: SandboxInspection,
  ) {}

  private readonly onExit = (exit: TaskExit): void => {
    if (exit.id !== exit.containerId || !this.recordsExitOf(exit.containerId)) return;
    void this.sandboxExited(exit).catch(err => this.log.warn({ sandbox: exit.containerId, err }, 'record sandbox exit'));
  };

  /**
   * Only a pause process that was running counts, and not while a StopPodSandbox or RemovePodSandbox
   * runs: that teardown kills and deletes the task itself. A second, concurrent task Delete from
   * here could reach the shim while it shuts down; containerd then gave the shim up as disconnected
   * and the shim process outlived the pod.
   */
  private recordsExitOf(id: string): boolean {
    return this.store.find(id)?.status.state === 'ready' && this.store.operation(id as SandboxId) === undefined;
  }

  private readonly reconciles = new SerialRuns(err => this.log.warn({ err }, 'reconcile sandbox exits'));
  // Exits that happened while the stream was down never arrive as events: look for them.
  private readonly onSubscribed = (): void => {
    this.reconciles.run(() => this.reconcile(AbortSignal.timeout(60_000)));
  };

  async start(signal: AbortSignal): Promise<void> {
    this.monitor.events.on('task:exited', this.onExit);
    this.monitor.events.on('stream:subscribed', this.onSubscribed);
    const { containers } = await this.containerd.containers.list({ filters: [`labels."${CrikitKeys.kind}"==sandbox`] }, { signal });
    for (const c of containers) {
      const { record, problems } = recoverSandboxRecord({
        id: c.id,
        metadata: parseJsonAny(c.extensions[CrikitKeys.sandboxMetadata], CrikitKeys.sandboxMetadata),
        status: parseJsonAny(c.extensions[CrikitKeys.sandboxStatus], CrikitKeys.sandboxStatus),
      });
      if (problems.length > 0) this.log.warn({ sandbox: c.id, problems }, 'sandbox recovered as unknown');
      const task = await getKnownTask(this.containerd, c.id, signal).catch(() => undefined);
      let status = record.status;
      if (record.status.state !== 'unknown') {
        // A pause task never started (crikit was killed inside RunPodSandbox) is no ready pod. One whose
        // shim did not answer in time (UNKNOWN) keeps its recorded state: its exit, if any, comes as an event.
        status = isUnknown(task)
          ? status
          : isLive(task) && task!.status !== taskTypes.Status.CREATED
          ? { ...status, state: 'ready', pid: task!.pid }
          : { ...status, state: 'notready', pid: 0, exitStatus: task?.exitStatus ?? status.exitStatus };
      }
      // As containerd's CRI: a pause task that is not running (never started, or exited) is killed and deleted.
      if (status.state === 'notready' && task && !isUnknown(task)) {
        await destroyTask(this.containerd, c.id, signal).catch(err => this.log.warn({ sandbox: c.id, err }, 'delete the task of a pause that is not running'));
      }
      this.store.add({ metadata: record.metadata, status });
      this.inspection.remember(c.id, { runtimeType: c.runtime?.name ?? '', specJson: specJsonOf(c.spec) });
    }
    this.log.info({ sandboxes: containers.length }, 'sandboxes recovered');
  }

  async stop(): Promise<void> {
    this.monitor.events.off('task:exited', this.onExit);
    this.monitor.events.off('stream:subscribed', this.onSubscribed);
    await this.reconciles.idle();
  }

  /**
   * Records the pause exits containerd's event stream missed (containerd restarted, the stream broke):
   * each ready sandbox whose task stopped or vanished becomes NOTREADY. Idempotent; runs after every subscription.
   */
  async reconcile(signal: AbortSignal): Promise<void> {
    const ready = this.store.list(r => r.status.state === 'ready').map(r => r.metadata.id);
    for (const exit of await missedExits(this.containerd, ready, signal)) {
      if (!this.recordsExitOf(exit.containerId)) continue;
      this.log.info({ sandbox: exit.containerId, exitStatus: exit.exitStatus }, 'pause exit missed by the event stream');
      await this.sandboxExited(exit);
    }
  }

  // The pause process died: the pod is not ready any more; its task is deleted, as containerd's CRI does.
  private async sandboxExited(exit: TaskExit): Promise<void> {
    const record = this.store.update(exit.containerId as SandboxId, s => ({ ...s, state: 'notready', pid: 0, exitStatus: exit.exitStatus, exitedAt: exit.exitedAt }));
    this.log.info({ sandbox: exit.containerId, exitStatus: exit.exitStatus }, 'sandbox pause process exited');
    const signal = AbortSignal.timeout(30_000);
    await this.teardown.persistStatus(record, signal);
    await deleteTask(this.containerd, exit.containerId, signal);
    this.bus.emit('sandbox:stopped', record);
  }
}
