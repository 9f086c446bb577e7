import { inject, injectable } from 'inversify';
import { nowNs, type SandboxRecord } from '@crikit/core';
import type { CgroupSample } from './cgroup-sample.js';
import { HostPaths, MetricsConfig } from './metrics-config.js';
import { readNetDev, type InterfaceCounters } from './net-dev.js';
import { PodCgroupReader } from './pod-cgroup-reader.js';
import { nanoCoresBetween } from './task-metrics-sampler.js';

/** What the sampler knows of one pod. */
export interface PodReading {
  /** When it was taken, ns since the epoch. */
  readonly timestampNs: bigint;
  /** The pod cgroup's sample; undefined when there is neither a pod cgroup nor a fallback. */
  readonly sample: CgroupSample | undefined;
  /** CPU use since the previous reading, in nanocores; undefined until there are two. */
  readonly nanoCores: bigint | undefined;
  /** The pod network namespace's interfaces; undefined for host-network pods or when the pause process is gone. */
  readonly interfaces: readonly InterfaceCounters[] | undefined;
}

/**
 * Samples pods for PodSandboxStats: the pod cgroup (the kubelet's cgroup parent, read from the
 * cgroup files) and the network counters of the pod's netns (`/proc/<pause pid>/net/dev`). A
 * reading is reused for `statsCacheMs`; the previous one is kept for the CPU rate.
 */
@injectable()
export class PodSampler {
  private readonly readings = new Map<string, { readonly atMs: number; readonly reading: PodReading }>();

  constructor(
    @inject(PodCgroupReader) private readonly cgroups: PodCgroupReader,
    @inject(HostPaths) private readonly paths: HostPaths,
    @inject(MetricsConfig) private readonly config: MetricsConfig,
  ) {}

  /**
   * The current reading of `sandbox`.
   * @param fallback what stands for the pod cgroup when the pod has no cgroup parent (crictl pods):
   *   the sum of its pause task and containers, computed by the caller from task metrics
   */
  async read(sandbox: SandboxRecord, fallback: () => CgroupSample | undefined): Promise<PodReading> {
    const id = sandbox.metadata.id;
    const now = performance.now();
    const cached = this.readings.get(id);
    if (cached && now - cached.atMs < this.config.statsCacheMs) return cached.reading;
    const parent = sandbox.metadata.config.linux?.cgroupParent ?? '';
    const pid = sandbox.status.pid;
    const [own, interfaces] = await Promise.all([
      parent === '' ? undefined : this.cgroups.read(parent),
      sandbox.metadata.netnsPath && pid > 0 ? readNetDev(this.paths.procRoot, pid) : undefined,
    ]);
    const sample = own ?? fallback();
    const reading: PodReading = {
      timestampNs: sample?.timestampNs ?? nowNs(),
      sample,
      nanoCores: nanoCoresBetween(cached?.reading.sample, sample),
      interfaces,
    };
    this.readings.set(id, { atMs: now, reading });
    for (const [key, { atMs }] of this.readings) if (now - atMs > 5 * 60_000) this.readings.delete(key);
    return reading;
  }
}
