import { inject, injectable, optional } from 'inversify';
import { snapshots as snapshotApi } from '@crikit/api';
import { Snapshotter } from '../config/snapshotter.js';
import { ContainerdClient } from '../contracts/containerd-client.js';
import { StartOrder, type Startable } from '../contracts/startable.js';
import { isNotFound } from '../errors.js';
import { ContainerdEventMonitor } from '../events/containerd-event-monitor.js';
import { Logger } from '../logger.js';
import type { UndoStep } from '../util/cleanup-stack.js';
import { SerialRuns } from '../util/serial-runs.js';
import { removeStaleLeases } from './lease.js';

/** How often undo steps still pending are tried again while containerd's event stream stays up. */
const retryEveryMs = 10_000;
/** After this many tries a step is given up (and logged): it does not fail for containerd being away. */
const maxTries = 60;
/** How long one round of retries, or the start-up sweep, may take. */
const roundMs = 60_000;
/** The ids crikit gives sandboxes and containers, which also key their rootfs snapshots. */
const crikitId = /^[0-9a-f]{64}$/;

interface Pending {
  readonly owner: string;
  steps: UndoStep[];
  tries: number;
}

/**
 * What a failed RunPodSandbox or CreateContainer could not undo because containerd was down (its task,
 * snapshot or container stays behind) is tried again once containerd's event stream is back, and every
 * 10 s until it is done. At start-up it sweeps what a killed crikitd left in containerd with no record
 * to find it by: crikit's leases, and rootfs snapshots keyed by a crikit id that no container owns.
 */
@injectable()
export class UndoRetries implements Startable {
  readonly startName = 'undo retries';
  // After recovery: every containerd container crikit knows is loaded; before crikit serves.
  readonly startOrder = StartOrder.recovery + 5;
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly rounds = new SerialRuns(err => this.log.warn({ err }, 'retry undo steps'));

  constructor(
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(ContainerdEventMonitor) private readonly monitor: ContainerdEventMonitor,
    @inject(Logger) private readonly log: Logger,
    // Without one (a runtime that makes no sandboxes or containers), no snapshot is swept.
    @inject(Snapshotter) @optional() private readonly snapshotter?: string,
  ) {}

  private readonly onSubscribed = (): void => this.request();

  async start(signal: AbortSignal): Promise<void> {
    await this.sweep(signal).catch(err => this.log.warn({ err }, 'sweep what a killed crikitd left in containerd'));
    this.monitor.events.on('stream:subscribed', this.onSubscribed);
  }

  async stop(): Promise<void> {
    this.monitor.events.off('stream:subscribed', this.onSubscribed);
    clearInterval(this.timer);
    this.timer = undefined;
    await this.rounds.idle();
  }

  /** Keeps `steps` (the failed undo steps of `owner`, in the order they ran) to run again later. */
  defer(owner: string, steps: readonly UndoStep[]): void {
    if (steps.length === 0) return;
    this.log.info({ owner, steps: steps.map(s => s.what) }, 'undo steps deferred until containerd answers');
    this.pending.push({ owner, steps: [...steps], tries: 0 });
    this.timer ??= setInterval(() => this.request(), retryEveryMs).unref();
  }

  /** The owners whose undo steps are still pending. */
  owners(): string[] {
    return this.pending.map(p => p.owner);
  }

  /** Resolves once no round of retries is running. */
  async idle(): Promise<void> {
    await this.rounds.idle();
  }

  private request(): void {
    this.rounds.run(() => this.round(AbortSignal.timeout(roundMs)));
  }

  private async round(signal: AbortSignal): Promise<void> {
    const stale = await removeStaleLeases(this.containerd, signal).catch(err => { this.log.debug({ err }, 'remove stale leases'); return []; });
    if (stale.length > 0) this.log.info({ leases: stale }, 'deleted leases left behind');
    for (const p of [...this.pending]) {
      const failed: UndoStep[] = [];
      for (const step of p.steps) {
        try {
          await step.undo(signal);
        } catch (err) {
          if (!isNotFound(err)) failed.push(step);
        }
      }
      p.steps = failed;
      if (failed.length > 0 && ++p.tries < maxTries) continue;
      this.pending.splice(this.pending.indexOf(p), 1);
      if (failed.length > 0) this.log.warn({ owner: p.owner, steps: failed.map(s => s.what) }, 'gave up undo steps');
      else this.log.info({ owner: p.owner }, 'deferred undo steps done');
    }
    if (this.pending.length === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Start-up only (no create is under way): crikit's leases, and snapshots of crikit ids no container owns. */
  private async sweep(signal: AbortSignal): Promise<void> {
    const leases = await removeStaleLeases(this.containerd, signal);
    if (!this.snapshotter) return;
    const { containers } = await this.containerd.containers.list({ filters: [] }, { signal });
    const owned = new Set(containers.flatMap(c => [c.id, c.snapshotKey]));
    const orphans: string[] = [];
    for await (const page of this.containerd.snapshots.list({ snapshotter: this.snapshotter, filters: [] }, { signal })) {
      for (const info of page.info) {
        if (info.kind === snapshotApi.Kind.ACTIVE && crikitId.test(info.name) && !owned.has(info.name)) orphans.push(info.name);
      }
    }
    for (const key of orphans) {
      await this.containerd.snapshots.remove({ snapshotter: this.snapshotter!, key }, { signal }).catch(err => { if (!isNotFound(err)) throw err; });
    }
    if (leases.length + orphans.length > 0) this.log.info({ leases, snapshots: orphans }, 'swept what a killed crikitd left in containerd');
  }
}
