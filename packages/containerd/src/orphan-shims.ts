import { inject, injectable } from 'inversify';
import {
  cgroupsPathOf, ContainerdClient, getTask, Logger, removeTaskLeftovers, shimIdsOn, StartOrder, type Startable,
} from '@crikit/core';
import { ContainerdAddress } from './containerd-address.js';

/**
 * At start-up, kills the shims of crikit's containerd that serve no task containerd knows, with their
 * bundle dirs and what is left in their cgroups. containerd killed while it creates a task can lose the
 * task and leave its shim running; RemoveContainer and RemovePodSandbox clean that up, but a crikitd
 * killed inside them leaves it with no record to find it by. Runs after recovery, before crikit serves,
 * so no task Create of crikit's is under way.
 */
@injectable()
export class OrphanShimSweep implements Startable {
  readonly startName = 'orphan shim sweep';
  readonly startOrder = StartOrder.recovery + 6;

  constructor(
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(ContainerdAddress) private readonly address: ContainerdAddress,
    @inject(Logger) private readonly log: Logger,
  ) {}

  /** Never fails start-up: what cannot be swept now is logged. */
  async start(signal: AbortSignal): Promise<void> {
    await this.sweep(signal).catch(err => this.log.warn({ err }, 'sweep orphaned shims'));
  }

  async stop(): Promise<void> {}

  /** Resolves with the ids whose shims were killed. */
  async sweep(signal: AbortSignal): Promise<string[]> {
    const shims = await shimIdsOn(this.address.socketPath, this.containerd.namespace);
    if (shims.length === 0) return [];
    const { tasks } = await this.containerd.tasks.list({ filter: '' }, { signal });
    const known = new Set(tasks.map(t => t.id));
    const orphans: string[] = [];
    for (const id of shims.filter(id => !known.has(id))) {
      // Asked once more by id: only a NOT_FOUND counts (a shim that did not answer the list is no orphan).
      if (await getTask(this.containerd, id, signal).then(t => t === undefined, () => false)) orphans.push(id);
    }
    for (const id of orphans) {
      const left = await removeTaskLeftovers(id, await cgroupsPathOf(this.containerd, id, signal));
      this.log.info({ id, ...left }, 'killed a shim containerd has no task for');
    }
    return orphans;
  }
}
