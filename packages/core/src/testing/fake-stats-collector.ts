import { cri } from '@crikit/api';
import type { StatsCollector } from '../contracts/stats-collector.js';
import { NotFoundError, throwIfAborted } from '../errors.js';
import type { ContainerId, SandboxId } from '../ids.js';
import { matchesLabels } from '../model/cri-filters.js';
import { FakeRecorder, type MethodsOf } from './fake-recorder.js';

/**
 * A StatsCollector that answers with the stats it was given (`setContainerStats`,
 * `setPodSandboxStats`), filtered the way the CRI filters them.
 */
export class FakeStatsCollector extends FakeRecorder<MethodsOf<StatsCollector>> implements StatsCollector {
  private readonly containers = new Map<ContainerId, { readonly sandboxId: SandboxId; readonly stats: cri.ContainerStats }>();
  private readonly sandboxes = new Map<SandboxId, cri.PodSandboxStats>();

  /** Sets what is reported for container `id` of sandbox `sandboxId`; `attributes.id` is filled in. */
  setContainerStats(id: ContainerId, sandboxId: SandboxId, stats: cri.ContainerStats = cri.ContainerStats.fromPartial({})): void {
    const attributes = cri.ContainerAttributes.fromPartial({ ...stats.attributes, id });
    this.containers.set(id, { sandboxId, stats: { ...stats, attributes } });
  }

  /** Sets what is reported for sandbox `id`; `attributes.id` is filled in. */
  setPodSandboxStats(id: SandboxId, stats: cri.PodSandboxStats = cri.PodSandboxStats.fromPartial({})): void {
    this.sandboxes.set(id, { ...stats, attributes: cri.PodSandboxAttributes.fromPartial({ ...stats.attributes, id }) });
  }

  async containerStats(id: ContainerId, signal: AbortSignal): Promise<cri.ContainerStats> {
    this.record('containerStats', id);
    throwIfAborted(signal, `container stats "${id}"`);
    const found = this.containers.get(id);
    if (!found) throw new NotFoundError(`container "${id}" not found`);
    return found.stats;
  }

  async listContainerStats(filter: cri.ContainerStatsFilter | undefined, signal: AbortSignal): Promise<readonly cri.ContainerStats[]> {
    this.record('listContainerStats', filter);
    throwIfAborted(signal, 'list container stats');
    return [...this.containers.entries()]
      .filter(([id, { sandboxId, stats }]) => !filter || (
        id.startsWith(filter.id) && sandboxId.startsWith(filter.podSandboxId)
        && matchesLabels(stats.attributes?.labels ?? {}, filter.labelSelector)))
      .map(([, { stats }]) => stats);
  }

  async podSandboxStats(id: SandboxId, signal: AbortSignal): Promise<cri.PodSandboxStats> {
    this.record('podSandboxStats', id);
    throwIfAborted(signal, `pod sandbox stats "${id}"`);
    const found = this.sandboxes.get(id);
    if (!found) throw new NotFoundError(`sandbox "${id}" not found`);
    return found;
  }

  async listPodSandboxStats(filter: cri.PodSandboxStatsFilter | undefined, signal: AbortSignal): Promise<readonly cri.PodSandboxStats[]> {
    this.record('listPodSandboxStats', filter);
    throwIfAborted(signal, 'list pod sandbox stats');
    return [...this.sandboxes.entries()]
      .filter(([id, stats]) => !filter || (id.startsWith(filter.id) && matchesLabels(stats.attributes?.labels ?? {}, filter.labelSelector)))
      .map(([, stats]) => stats);
  }
}
