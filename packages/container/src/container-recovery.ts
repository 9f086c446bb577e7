import fs from 'node:fs/promises';
import path from 'node:path';
import { inject, injectable } from 'inversify';
import {
  nowNs, timestampNs, ContainerdClient, ContainerStore, CrikitKeys, destroyTask, getKnownTask, isLive, isUnknown, Logger, parseJsonAny,
  PathsConfig, recoverContainerRecord, specJsonOf, StartOrder, type ContainerId, type ContainerRecord, type Startable,
} from '@crikit/core';
import { taskTypes } from '@crikit/api';
import { ContainerExits } from './container-exits.js';
import { ContainerInspection } from './container-inspection.js';
import { ContainerIo } from './container-io.js';
import { ContainerLifecycle } from './container-lifecycle.js';
import { rootfsMountsDir, sweepRootfsMounts } from './rootfs-user-db.js';

/**
 * Rebuilds the container store from containerd at start-up: running containers get their output
 * read again from the same FIFOs into the same log files; exits that happened while crikit was
 * down are recorded from the task's exit status.
 */
@injectable()
export class ContainerRecovery implements Startable {
  readonly startName = 'container recovery';
  // After sandbox recovery (whose records containers refer to).
  readonly startOrder = StartOrder.recovery + 1;

  constructor(
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(ContainerStore) private readonly store: ContainerStore,
    @inject(ContainerIo) private readonly io: ContainerIo,
    @inject(ContainerLifecycle) private readonly lifecycle: ContainerLifecycle,
    @inject(ContainerExits) private readonly exits: ContainerExits,
    @inject(ContainerInspection) private readonly inspection: ContainerInspection,
    @inject(Logger) private readonly log: Logger,
    @inject(PathsConfig) private readonly paths: PathsConfig,
  ) {}

  async start(signal: AbortSignal): Promise<void> {
    const { containers } = await this.containerd.containers.list({ filters: [`labels."${CrikitKeys.kind}"==container`] }, { signal });
    for (const c of containers) {
      const { record, problems } = recoverContainerRecord({
        id: c.id,
        sandboxId: c.labels['io.cri-containerd.sandbox-id'],
        metadata: parseJsonAny(c.extensions[CrikitKeys.containerMetadata], CrikitKeys.containerMetadata),
        status: parseJsonAny(c.extensions[CrikitKeys.containerStatus], CrikitKeys.containerStatus),
      });
      if (problems.length > 0) this.log.warn({ container: c.id, problems }, 'container recovered as unknown');
      this.store.add(record);
      this.inspection.remember(c.id, { runtimeType: c.runtime?.name ?? '', snapshotter: c.snapshotter, snapshotKey: c.snapshotKey, specJson: specJsonOf(c.spec) });
      const id = c.id as ContainerId;
      const task = await getKnownTask(this.containerd, id, signal).catch(() => undefined);
      // UNKNOWN: the shim did not answer in time; the process may run, so it is taken as running.
      if (record.status.state === 'running' && (isLive(task) || isUnknown(task))) {
        // A stdin that stdin_once closed before the restart stays closed: no writer, so no attach gets it.
        const stdin = record.metadata.config.stdin && !(await this.io.isStdinClosed(id));
        const io = await this.io.open(id, id, { tty: record.metadata.config.tty, stdin });
        await this.lifecycle.attachLogs(record, io);
      } else if (record.status.state === 'running') {
        // It exited while crikit was down: the task keeps its exit status until deleted.
        const stopped = task?.status === taskTypes.Status.STOPPED;
        await this.exits.record(id, stopped ? task!.exitStatus : 255, timestampNs(task?.exitedAt));
      } else if (record.status.state === 'created' && task && !isUnknown(task)) {
        await this.startCutShort(record, task, signal);
      }
    }
    this.log.info({ containers: containers.length }, 'containers recovered');
    await this.sweep().catch(err => this.log.warn({ err }, 'sweep what no container owns'));
  }

  /**
   * What a crikitd killed in CreateContainer or StartContainer left that no container owns, as
   * containerd's CRI sweeps its orphaned container dirs at start-up: state dirs (FIFOs) of unknown ids,
   * and rootfs mounts made to read an image's users. Nothing is under way yet.
   */
  private async sweep(): Promise<void> {
    const dir = path.join(this.paths.stateDir, 'containers');
    const orphans = (await fs.readdir(dir).catch(() => [] as string[])).filter(id => !this.store.find(id));
    for (const id of orphans) await fs.rm(path.join(dir, id), { recursive: true, force: true });
    const mounts = await sweepRootfsMounts(rootfsMountsDir(this.paths));
    if (orphans.length + mounts.length > 0) this.log.info({ stateDirs: orphans, rootfsMounts: mounts }, 'swept what no container owns');
  }

  async stop(): Promise<void> {}

  /**
   * A StartContainer cut short by a kill left a task behind a record that still says created. As
   * containerd's CRI recovers it: a task never started is killed and deleted (the container stays
   * created, so the kubelet's retried StartContainer makes a new one instead of ALREADY_EXISTS); a
   * running one makes the container running; a stopped one records its exit.
   */
  private async startCutShort(record: ContainerRecord, task: taskTypes.Process, signal: AbortSignal): Promise<void> {
    const id = record.metadata.id;
    if (task.status === taskTypes.Status.CREATED) {
      await destroyTask(this.containerd, id, signal);
      await this.io.remove(id);
      this.log.info({ container: id }, 'deleted the task a StartContainer cut short had created');
    } else if (isLive(task)) {
      // Its output is read again from the FIFOs the task was given (a task made without any has none to read).
      if (task.stdout !== '') {
        const io = await this.io.open(id, id, { tty: record.metadata.config.tty, stdin: record.metadata.config.stdin });
        await this.lifecycle.attachLogs(record, io);
      }
      const started = this.store.update(id, s => ({ ...s, state: 'running', pid: task.pid, startedAt: nowNs() }));
      await this.exits.persist(started, signal);
      this.log.info({ container: id, pid: task.pid }, 'container started by a StartContainer cut short');
    } else {
      await this.exits.record(id, task.exitStatus, timestampNs(task.exitedAt));
    }
  }
}
