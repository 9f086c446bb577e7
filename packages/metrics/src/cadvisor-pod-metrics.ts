import fs from 'node:fs/promises';
import { inject, injectable } from 'inversify';
import type { cri } from '@crikit/api';
import { SandboxStore, type PodMetricsCollector } from '@crikit/core';
import { metricDescriptors, metricSpecs, type MetricSpec } from './metric-descriptors.js';
import { StatsSampler, type ContainerSnapshot, type PodSnapshot } from './stats-sampler.js';

const second = 1_000_000_000n;

/** The size of the filesystem writable layers live on, for the container_fs_* limits. */
interface FsSize {
  readonly bytes: bigint;
  readonly inodes: bigint;
  readonly inodesFree: bigint;
}

/**
 * core's PodMetricsCollector: the cAdvisor-named metrics the kubelet's `/metrics/cadvisor` serves
 * when the runtime provides them (ListPodSandboxMetrics), built from the same samples as the
 * stats RPCs. The pod's own entries carry the network counters under the name `POD`, as CRI-O's.
 */
@injectable()
export class CadvisorPodMetrics implements PodMetricsCollector {
  constructor(
    @inject(SandboxStore) private readonly sandboxes: SandboxStore,
    @inject(StatsSampler) private readonly sampler: StatsSampler,
  ) {}

  metricDescriptors(): readonly cri.MetricDescriptor[] {
    return metricDescriptors;
  }

  async listPodSandboxMetrics(signal: AbortSignal): Promise<readonly cri.PodSandboxMetrics[]> {
    const sampled = await this.sampler.samplePods(this.sandboxes.list(s => s.status.state === 'ready'), signal);
    const fsSize = await statFs(sampled.mountpoint);
    return sampled.items.map(p => podMetrics(p, fsSize, sampled.timestampNs));
  }
}

/** The metrics of one sampled pod and its containers. */
export function podMetrics(p: PodSnapshot, fsSize: FsSize | undefined, timestampNs: bigint): cri.PodSandboxMetrics {
  const out = new MetricList([p.sandbox.metadata.id, 'POD', ''], timestampNs);
  out.add(metricSpecs.lastSeen, timestampNs / second);
  for (const i of p.pod.interfaces ?? []) {
    out.add(metricSpecs.netRxBytes, i.rxBytes, [i.name]);
    out.add(metricSpecs.netRxPackets, i.rxPackets, [i.name]);
    out.add(metricSpecs.netRxDropped, i.rxDropped, [i.name]);
    out.add(metricSpecs.netRxErrors, i.rxErrors, [i.name]);
    out.add(metricSpecs.netTxBytes, i.txBytes, [i.name]);
    out.add(metricSpecs.netTxPackets, i.txPackets, [i.name]);
    out.add(metricSpecs.netTxDropped, i.txDropped, [i.name]);
    out.add(metricSpecs.netTxErrors, i.txErrors, [i.name]);
  }
  return {
    podSandboxId: p.sandbox.metadata.id,
    metrics: out.metrics,
    containerMetrics: p.containers.map(c => ({ containerId: c.record.metadata.id, metrics: containerMetrics(c, fsSize, timestampNs) })),
  };
}

/** The metrics of one container; what its task did not report (not started, exited) is left out. */
export function containerMetrics(c: ContainerSnapshot, fsSize: FsSize | undefined, timestampNs: bigint): cri.Metric[] {
  const { metadata, status } = c.record;
  const image = metadata.config.image?.image || metadata.imageRef;
  const out = new MetricList([metadata.id, metadata.name, image], timestampNs);
  out.add(metricSpecs.lastSeen, timestampNs / second);
  const s = c.task.sample;
  if (s?.cpu) {
    out.add(metricSpecs.cpuUser, s.cpu.userNs / second);
    out.add(metricSpecs.cpuSystem, s.cpu.systemNs / second);
    out.add(metricSpecs.cpuUsage, s.cpu.usageNs / second, ['total']);
    out.add(metricSpecs.cfsPeriods, s.cpu.periods);
    out.add(metricSpecs.cfsThrottledPeriods, s.cpu.throttledPeriods);
    out.add(metricSpecs.cfsThrottledSeconds, s.cpu.throttledNs / second);
  }
  if (s?.memory) {
    const m = s.memory;
    out.add(metricSpecs.memoryCache, m.cacheBytes);
    out.add(metricSpecs.memoryRss, m.rssBytes);
    out.add(metricSpecs.memoryKernel, m.kernelBytes);
    out.add(metricSpecs.memoryMappedFile, m.mappedFileBytes);
    out.add(metricSpecs.memorySwap, s.swap?.usageBytes ?? 0n);
    out.add(metricSpecs.memoryFailcnt, m.failcnt);
    out.add(metricSpecs.memoryUsage, m.usageBytes);
    out.add(metricSpecs.memoryMaxUsage, m.maxUsageBytes);
    out.add(metricSpecs.memoryWorkingSet, m.workingSetBytes);
    // cAdvisor reports page faults under both scopes; a container's cgroup is its own hierarchy.
    for (const scope of ['container', 'hierarchy']) {
      out.add(metricSpecs.memoryFailures, m.pageFaults, ['pgfault', scope]);
      out.add(metricSpecs.memoryFailures, m.majorPageFaults, ['pgmajfault', scope]);
    }
  }
  if (s?.oomKills !== undefined) out.add(metricSpecs.oomEvents, s.oomKills);
  if (s?.pids !== undefined) out.add(metricSpecs.processes, s.pids);
  out.add(metricSpecs.fsUsage, c.layer?.usedBytes ?? 0n);
  if (fsSize) {
    out.add(metricSpecs.fsLimit, fsSize.bytes);
    out.add(metricSpecs.fsInodesTotal, fsSize.inodes);
    out.add(metricSpecs.fsInodesFree, fsSize.inodesFree);
  }
  const r = status.resources?.linux;
  if (r) {
    if (r.cpuPeriod > 0n) out.add(metricSpecs.specCpuPeriod, r.cpuPeriod);
    if (r.cpuQuota > 0n) out.add(metricSpecs.specCpuQuota, r.cpuQuota);
    if (r.cpuShares > 0n) out.add(metricSpecs.specCpuShares, r.cpuShares);
    out.add(metricSpecs.specMemoryLimit, r.memoryLimitInBytes > 0n ? r.memoryLimitInBytes : 0n);
    if (r.memorySwapLimitInBytes > 0n) out.add(metricSpecs.specMemorySwapLimit, r.memorySwapLimitInBytes);
  } else {
    out.add(metricSpecs.specMemoryLimit, 0n);
  }
  return out.metrics;
}

/** Collects metrics of one object: its base label values, then each metric's own. */
class MetricList {
  readonly metrics: cri.Metric[] = [];
  constructor(private readonly base: readonly string[], private readonly timestampNs: bigint) {}

  add(spec: MetricSpec, value: bigint, labels: readonly string[] = []): void {
    this.metrics.push({
      name: spec.name, timestamp: this.timestampNs, metricType: spec.type,
      labelValues: [...this.base, ...labels], value: { value: value < 0n ? 0n : value },
    });
  }
}

/** The size of the filesystem at `dir`; undefined when it cannot be read (no mountpoint known). */
async function statFs(dir: string): Promise<FsSize | undefined> {
  if (!dir) return undefined;
  try {
    const s = await fs.statfs(dir, { bigint: true });
    return { bytes: s.blocks * s.bsize, inodes: s.files, inodesFree: s.ffree };
  } catch {
    return undefined;
  }
}
