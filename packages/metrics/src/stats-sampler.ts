import { inject, injectable } from 'inversify';
import { ContainerStore, nowNs, type ContainerRecord, type SandboxRecord } from '@crikit/core';
import { PodSampler, type PodReading } from './pod-sampler.js';
import { sumSamples } from './cri-usage.js';
import { TaskMetricsSampler, type TaskReading } from './task-metrics-sampler.js';
import { WritableLayerUsage, type LayerUsage } from './writable-layer-usage.js';

/** Everything known about one container at one moment. */
export interface ContainerSnapshot {
  readonly record: ContainerRecord;
  readonly task: TaskReading;
  readonly layer: LayerUsage | undefined;
}

/** Everything known about one pod and its containers at one moment. */
export interface PodSnapshot {
  readonly sandbox: SandboxRecord;
  readonly pod: PodReading;
  readonly containers: readonly ContainerSnapshot[];
}

/** Samples at one moment, plus the snapshotter mountpoint writable layers are reported under. */
export interface Sampled<T> {
  readonly items: readonly T[];
  readonly mountpoint: string;
  readonly timestampNs: bigint;
}

/**
 * The one place the stats and metrics RPCs get their figures from: one batched `Tasks.Metrics`
 * call for every task involved, the writable layers' cached usage, and the pods' cgroup and
 * network readings, all fetched in parallel.
 */
@injectable()
export class StatsSampler {
  constructor(
    @inject(ContainerStore) private readonly containers: ContainerStore,
    @inject(TaskMetricsSampler) private readonly tasks: TaskMetricsSampler,
    @inject(WritableLayerUsage) private readonly layers: WritableLayerUsage,
    @inject(PodSampler) private readonly pods: PodSampler,
  ) {}

  /**
   * Samples `records`.
   * @throws UnavailableError when containerd cannot be reached
   */
  async sampleContainers(records: readonly ContainerRecord[], signal: AbortSignal): Promise<Sampled<ContainerSnapshot>> {
    const ids = records.map(r => r.metadata.id);
    const [tasks, layers, mountpoint] = await Promise.all([
      this.tasks.read(ids, signal), this.layers.usage(ids, signal), this.layers.mountpoint(signal),
    ]);
    const items = records.map(record => ({
      record,
      task: tasks.get(record.metadata.id) ?? { sample: undefined, nanoCores: undefined },
      layer: layers.get(record.metadata.id),
    }));
    return { items, mountpoint, timestampNs: nowNs() };
  }

  /**
   * Samples `sandboxes` and all their containers, with one task-metrics call for all of them
   * (pause tasks included for pods without a cgroup parent, whose usage is the sum of their tasks).
   * @throws UnavailableError when containerd cannot be reached
   */
  async samplePods(sandboxes: readonly SandboxRecord[], signal: AbortSignal): Promise<Sampled<PodSnapshot>> {
    const podIds = new Set<string>(sandboxes.map(s => s.metadata.id));
    const records = this.containers.list(c => podIds.has(c.metadata.sandboxId));
    const pauseIds = sandboxes.filter(s => !s.metadata.config.linux?.cgroupParent).map(s => s.metadata.id);
    const containerIds = records.map(r => r.metadata.id);
    const [tasks, layers, mountpoint] = await Promise.all([
      this.tasks.read([...containerIds, ...pauseIds], signal), this.layers.usage(containerIds, signal), this.layers.mountpoint(signal),
    ]);
    const now = nowNs();
    const items = await Promise.all(sandboxes.map(async sandbox => {
      const containers = records.filter(r => r.metadata.sandboxId === sandbox.metadata.id).map(record => ({
        record,
        task: tasks.get(record.metadata.id) ?? { sample: undefined, nanoCores: undefined },
        layer: layers.get(record.metadata.id),
      }));
      const fallback = () => sumSamples([tasks.get(sandbox.metadata.id)?.sample, ...containers.map(c => c.task.sample)], now);
      return { sandbox, pod: await this.pods.read(sandbox, fallback), containers };
    }));
    return { items, mountpoint, timestampNs: now };
  }
}
