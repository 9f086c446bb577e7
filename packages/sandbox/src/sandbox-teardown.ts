import { inject, injectable, optional } from 'inversify';
import {
  cgroupsPathOf, ContainerdClient, ContainerManager, ContainerStore, CrikitKeys, destroyTask, encodeSandboxStatus, ignoreNotFound,
  Logger, NetworkNamespaces, PathsConfig, PodNetwork, ProcessRunner, removeTaskLeftovers, settleAll, RuntimeEventBus, sandboxPaths, SandboxStore, Snapshotter,
  writeExtension, type SandboxId, type SandboxRecord,
} from '@crikit/core';
import { removeSandboxFiles, removeSandboxState } from './sandbox-files.js';
import { podRefOf } from './pod-ref.js';

/**
 * StopPodSandbox and RemovePodSandbox. Both are idempotent and work from every state, `unknown`
 * included, so the kubelet can always clean up.
 */
@injectable()
export class SandboxTeardown {
  /**
   * Sandboxes this process has fully stopped (network detached, netns gone), so that the kubelet's
   * RemovePodSandbox after StopPodSandbox does not run the CNI DELs again. A pause exit alone does
   * not count: its network is still attached. After a restart, a stop runs once more (harmless).
   */
  private readonly stopped = new Set<SandboxId>();
  /** Sandboxes whose pause task containerd deleted in this process (its shim is gone, nothing to look for). */
  private readonly pauseTaskDeleted = new Set<SandboxId>();

  constructor(
    @inject(SandboxStore) private readonly store: SandboxStore,
    @inject(ContainerStore) private readonly containers: ContainerStore,
    @inject(PodNetwork) private readonly network: PodNetwork,
    @inject(NetworkNamespaces) private readonly netns: NetworkNamespaces,
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(RuntimeEventBus) private readonly bus: RuntimeEventBus,
    @inject(PathsConfig) private readonly paths: PathsConfig,
    @inject(Snapshotter) private readonly snapshotter: string,
    @inject(Logger) private readonly log: Logger,
    // Containers land in another package; until it is bound, a sandbox has none to stop.
    @inject(ContainerManager) @optional() private readonly containerManager: ContainerManager | undefined,
    // Runs `umount` of the shm (crikitd's spawn helper); from this process when not bound.
    @inject(ProcessRunner) @optional() private readonly runner?: ProcessRunner,
  ) {}

  /**
   * Stops the sandbox's containers (at once: CRI gives them no grace here, as in containerd), its
   * pause task, its network, netns and shm. The record stays, NOTREADY.
   * CRI: StopPodSandbox is idempotent; an unknown id is success. While another Stop or a Remove of
   * the sandbox runs, it fails FAILED_PRECONDITION rather than race it.
   */
  async stop(id: SandboxId, signal: AbortSignal): Promise<void> {
    const record = this.store.find(id);
    if (!record || this.stopped.has(id)) return;
    // Taken before the first await, so two teardowns never interleave.
    const end = this.store.beginOperation(id, 'stopping');
    try {
      await this.stopAll(record, signal);
    } finally {
      end();
    }
  }

  private async stopAll(record: SandboxRecord, signal: AbortSignal): Promise<void> {
    const id = record.metadata.id;
    if (this.stopped.has(id)) return;
    for (const c of this.containers.list(c => c.metadata.sandboxId === id)) {
      await this.containerManager?.stop(c.metadata.id, 0, signal);
    }
    const { netnsPath } = record.metadata;
    // The pause task and CNI DEL are independent (the netns stays pinned until both are done), so
    // they run at once; containerd's CRI runs them one after the other.
    await settleAll([
      // A pause cgroup left frozen by a cut-short `runc kill --all` is thawed (destroyTask, given its cgroup).
      destroyTask(this.containerd, id, signal).catch(async (err: unknown) => {
        const cgroupsPath = await cgroupsPathOf(this.containerd, id, signal);
        if (cgroupsPath === undefined) throw err;
        return destroyTask(this.containerd, id, signal, cgroupsPath);
      }).then(deleted => {
        if (deleted) this.pauseTaskDeleted.add(id);
        return removeSandboxState(sandboxPaths(this.paths, id), this.runner);
      }),
      // CNI DEL runs even when the netns is gone: host-local must release the IP either way.
      netnsPath ? this.network.detach(podRefOf(id, record.metadata.config, netnsPath), signal) : undefined,
    ]);
    if (netnsPath) await this.netns.remove(netnsPath, signal);
    const stopped = this.store.update(id, s => ({ ...s, state: 'notready', pid: 0 }));
    await this.persistStatus(stopped, signal);
    this.stopped.add(id);
    this.log.info({ sandbox: id }, 'sandbox stopped');
    this.bus.emit('sandbox:stopped', stopped);
  }

  /**
   * Stops the sandbox if needed, removes its containers, its containerd container and snapshot,
   * its files, and forgets it. CRI: RemovePodSandbox is idempotent; an unknown id is success.
   * While a Stop or another Remove of the sandbox runs, it fails FAILED_PRECONDITION.
   */
  async remove(id: SandboxId, signal: AbortSignal): Promise<void> {
    const record = this.store.find(id);
    if (!record) return;
    const end = this.store.beginOperation(id, 'removing');
    try {
      await this.removeAll(record, signal);
    } finally {
      end();
    }
  }

  private async removeAll(record: SandboxRecord, signal: AbortSignal): Promise<void> {
    const id = record.metadata.id;
    await this.stopAll(record, signal);
    // When containerd deleted the pause task it shut the shim down itself; otherwise it may have lost track
    // of one (killed during the task's Create), and what it left is looked for below (a /proc walk).
    const lostTaskCgroups = this.pauseTaskDeleted.delete(id) ? undefined : { path: await cgroupsPathOf(this.containerd, id, signal) };
    for (const c of this.containers.list(c => c.metadata.sandboxId === id)) {
      await this.containerManager?.remove(c.metadata.id, signal);
    }
    await ignoreNotFound(this.containerd.containers.delete({ id }, { signal }));
    await ignoreNotFound(this.containerd.snapshots.remove({ snapshotter: this.snapshotter, key: id }, { signal }));
    // What a pause task containerd lost track of (it was killed during the task's Create) left behind.
    if (lostTaskCgroups) {
      const left = await removeTaskLeftovers(id, lostTaskCgroups.path);
      if (left.shims.length + left.processes.length + left.cgroups.length > 0) this.log.info({ sandbox: id, ...left }, 'removed what a lost task left');
    }
    await removeSandboxFiles(sandboxPaths(this.paths, id));
    this.store.delete(id);
    this.stopped.delete(id);
    this.log.info({ sandbox: id }, 'sandbox removed');
    this.bus.emit('sandbox:removed', record);
  }

  /** Writes the sandbox's status into its containerd container, so a restart sees it. */
  async persistStatus(record: SandboxRecord, signal: AbortSignal): Promise<void> {
    await writeExtension(this.containerd, record.metadata.id, CrikitKeys.sandboxStatus, encodeSandboxStatus(record.status), signal);
  }
}
