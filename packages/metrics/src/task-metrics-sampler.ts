import { inject, injectable } from 'inversify';
import { ContainerdClient, deadline, nowNs, timestampNs } from '@crikit/core';
import { decodeTaskMetrics, type CgroupSample } from './cgroup-sample.js';
import { MetricsConfig } from './metrics-config.js';
import { untilAborted } from './until-aborted.js';

/** What the sampler knows of one task. */
export interface TaskReading {
  /** The latest sample; undefined when containerd has no task for the id (created, never started, or gone). */
  readonly sample: CgroupSample | undefined;
  /** CPU use between the previous sample and this one, in nanocores; undefined until there are two. */
  readonly nanoCores: bigint | undefined;
}

/** Readings not refreshed for this long are dropped, so removed containers do not linger. */
const forgetAfterMs = 5 * 60_000;
/** A batch is shared by every caller that waits for it, so none of their signals may cancel it: it has its own deadline. */
const fetchTimeoutMs = 30_000;

/**
 * Samples containerd task metrics for the stats RPCs. Every id whose sample is older than
 * `statsCacheMs` is fetched in one `Tasks.Metrics` call (one `id==` filter per task, which
 * containerd ORs); fresher ones are answered from memory, so a kubelet polling many containers
 * costs containerd one call per window. Concurrent callers share in-flight fetches per id.
 */
@injectable()
export class TaskMetricsSampler {
  private readonly readings = new Map<string, { readonly atMs: number; readonly reading: TaskReading }>();
  private readonly inFlight = new Map<string, Promise<TaskReading>>();

  constructor(
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(MetricsConfig) private readonly config: MetricsConfig,
  ) {}

  /**
   * The current reading of each task in `ids` (container or sandbox ids).
   * @throws UnavailableError when containerd cannot be reached; CancelledError when `signal` fires
   */
  async read(ids: readonly string[], signal: AbortSignal): Promise<Map<string, TaskReading>> {
    const now = performance.now();
    const out = new Map<string, TaskReading>();
    const waiting: Promise<void>[] = [];
    const stale: string[] = [];
    for (const id of new Set(ids)) {
      const cached = this.readings.get(id);
      if (cached && now - cached.atMs < this.config.statsCacheMs) out.set(id, cached.reading);
      else if (this.inFlight.has(id)) waiting.push(this.inFlight.get(id)!.then(r => { out.set(id, r); }));
      else stale.push(id);
    }
    if (stale.length > 0) {
      const limit = deadline([], fetchTimeoutMs);
      const batch = this.fetch(stale, limit.signal).finally(() => limit.dispose());
      for (const id of stale) {
        const one = batch.then(m => m.get(id)!);
        this.inFlight.set(id, one);
        // A failed batch must not leave an unhandled rejection behind for ids nobody else awaits.
        one.catch(() => {}).finally(() => { if (this.inFlight.get(id) === one) this.inFlight.delete(id); });
        waiting.push(one.then(r => { out.set(id, r); }));
      }
    }
    await untilAborted(Promise.all(waiting), signal, 'read task metrics');
    this.prune(now);
    return out;
  }

  private async fetch(ids: readonly string[], signal: AbortSignal): Promise<Map<string, TaskReading>> {
    const { metrics } = await this.containerd.tasks.metrics({ filters: ids.map(id => `id==${id}`) }, { signal });
    const byId = new Map(metrics.map(m => [m.id, m]));
    const atMs = performance.now();
    const out = new Map<string, TaskReading>();
    for (const id of ids) {
      const metric = byId.get(id);
      const sample = metric ? decodeTaskMetrics(metric.data, metric.timestamp ? timestampNs(metric.timestamp) : nowNs()) : undefined;
      const reading = { sample, nanoCores: nanoCoresBetween(this.readings.get(id)?.reading.sample, sample) };
      this.readings.set(id, { atMs, reading });
      out.set(id, reading);
    }
    return out;
  }

  private prune(now: number): void {
    for (const [id, { atMs }] of this.readings) if (now - atMs > forgetAfterMs) this.readings.delete(id);
  }
}

/**
 * CPU use between two samples of one cgroup, in nanocores (1e9 = one core busy), as containerd's
 * CRI computes `usage_nano_cores`: Δusage / Δtime. Undefined without a previous sample, when time
 * did not advance, or when the counter went backwards (a restarted task).
 */
export function nanoCoresBetween(previous: CgroupSample | undefined, current: CgroupSample | undefined): bigint | undefined {
  if (!previous?.cpu || !current?.cpu) return undefined;
  const dt = current.timestampNs - previous.timestampNs;
  const du = current.cpu.usageNs - previous.cpu.usageNs;
  if (dt <= 0n || du < 0n) return undefined;
  return (du * 1_000_000_000n) / dt;
}
