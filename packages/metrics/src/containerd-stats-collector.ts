import { inject, injectable } from 'inversify';
import type { cri } from '@crikit/api';
import {
  ContainerStore, FailedPreconditionError, matchesLabels, SandboxStore,
  type ContainerId, type ContainerRecord, type SandboxId, type SandboxRecord, type StatsCollector,
} from '@crikit/core';
import { toCpuUsage, toIoUsage, toLayerUsage, toMemoryUsage, toNetworkUsage, toSwapUsage } from './cri-usage.js';
import { StatsSampler, type ContainerSnapshot, type PodSnapshot } from './stats-sampler.js';

/**
 * core's StatsCollector on containerd: container figures from task metrics (cgroup v1 or v2) and
 * the snapshotter, pod figures from the pod cgroup and the pod's netns, as containerd's CRI
 * reports them. Every answer costs at most one containerd `Tasks.Metrics` call (see StatsSampler).
 */
@injectable()
export class ContainerdStatsCollector implements StatsCollector {
  constructor(
    @inject(ContainerStore) private readonly containers: ContainerStore,
    @inject(SandboxStore) private readonly sandboxes: SandboxStore,
    @inject(StatsSampler) private readonly sampler: StatsSampler,
  ) {}

  async containerStats(id: ContainerId, signal: AbortSignal): Promise<cri.ContainerStats> {
    const sampled = await this.sampler.sampleContainers([this.containers.get(id)], signal);
    return toContainerStats(sampled.items[0]!, sampled.mountpoint, sampled.timestampNs);
  }

  async listContainerStats(filter: cri.ContainerStatsFilter | undefined, signal: AbortSignal): Promise<readonly cri.ContainerStats[]> {
    // CRI: every container is listed, whatever its state; one without a task has no cpu or memory figures.
    const sampled = await this.sampler.sampleContainers(this.containers.list(r => matchesStatsFilter(r, filter)), signal);
    return sampled.items.map(c => toContainerStats(c, sampled.mountpoint, sampled.timestampNs));
  }

  async podSandboxStats(id: SandboxId, signal: AbortSignal): Promise<cri.PodSandboxStats> {
    const sandbox = this.sandboxes.get(id);
    // containerd's CRI: only a ready sandbox has a pod cgroup and a netns worth reporting.
    if (sandbox.status.state !== 'ready') throw new FailedPreconditionError(`pod sandbox stats "${id}": sandbox is not ready`);
    const sampled = await this.sampler.samplePods([sandbox], signal);
    return toPodSandboxStats(sampled.items[0]!, sampled.mountpoint, sampled.timestampNs);
  }

  async listPodSandboxStats(filter: cri.PodSandboxStatsFilter | undefined, signal: AbortSignal): Promise<readonly cri.PodSandboxStats[]> {
    const sandboxes = this.sandboxes.list(s => s.status.state === 'ready' && matchesPodStatsFilter(s, filter));
    const sampled = await this.sampler.samplePods(sandboxes, signal);
    return sampled.items.map(p => toPodSandboxStats(p, sampled.mountpoint, sampled.timestampNs));
  }
}

/** True when a container passes a CRI ContainerStatsFilter (ids match by prefix, as crictl's short ids). */
export function matchesStatsFilter(record: ContainerRecord, filter: cri.ContainerStatsFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.id !== '' && !record.metadata.id.startsWith(filter.id)) return false;
  if (filter.podSandboxId !== '' && !record.metadata.sandboxId.startsWith(filter.podSandboxId)) return false;
  return matchesLabels(record.metadata.config.labels, filter.labelSelector);
}

/** True when a sandbox passes a CRI PodSandboxStatsFilter. */
export function matchesPodStatsFilter(record: SandboxRecord, filter: cri.PodSandboxStatsFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.id !== '' && !record.metadata.id.startsWith(filter.id)) return false;
  return matchesLabels(record.metadata.config.labels, filter.labelSelector);
}

/** The CRI stats of one sampled container. */
export function toContainerStats(c: ContainerSnapshot, mountpoint: string, nowNs: bigint): cri.ContainerStats {
  const { config, id } = c.record.metadata;
  return {
    attributes: { id, metadata: config.metadata, labels: { ...config.labels }, annotations: { ...config.annotations } },
    cpu: toCpuUsage(c.task.sample, c.task.nanoCores),
    memory: toMemoryUsage(c.task.sample),
    writableLayer: toLayerUsage(c.layer, mountpoint, nowNs),
    swap: toSwapUsage(c.task.sample),
    io: toIoUsage(c.task.sample),
  };
}

/** The CRI stats of one sampled pod; its process count is its containers' (containerd's rule). */
export function toPodSandboxStats(p: PodSnapshot, mountpoint: string, nowNs: bigint): cri.PodSandboxStats {
  const { config, id } = p.sandbox.metadata;
  const processCount = p.containers.reduce((n, c) => n + (c.task.sample?.pids ?? 0n), 0n);
  return {
    attributes: { id, metadata: config.metadata, labels: { ...config.labels }, annotations: { ...config.annotations } },
    linux: {
      cpu: toCpuUsage(p.pod.sample, p.pod.nanoCores),
      memory: toMemoryUsage(p.pod.sample),
      network: p.pod.interfaces ? toNetworkUsage(p.pod.interfaces, p.pod.timestampNs) : undefined,
      process: { timestamp: p.pod.timestampNs, processCount: { value: processCount } },
      containers: p.containers.map(c => toContainerStats(c, mountpoint, nowNs)),
      io: toIoUsage(p.pod.sample),
    },
    windows: undefined,
  };
}
