import type { cri } from '@crikit/api';
import type { ContainerId, SandboxId } from '../ids.js';

/**
 * Resource usage of containers and pods, for the CRI stats RPCs (ContainerStats,
 * ListContainerStats, PodSandboxStats, ListPodSandboxStats). Read from containerd task metrics
 * (cgroup v1 or v2) and the snapshotter; every method only reads.
 */
export interface StatsCollector {
  /**
   * Usage of one container (CPU, memory, writable layer, swap, IO).
   * @throws NotFoundError when the id is not stored
   * @throws UnavailableError when containerd cannot be reached
   */
  containerStats(id: ContainerId, signal: AbortSignal): Promise<cri.ContainerStats>;

  /**
   * Usage of the containers matching a CRI filter (id and sandbox prefixes, labels); all when absent.
   * A container whose task is gone is reported without usage rather than failing the list.
   * @throws UnavailableError when containerd cannot be reached
   */
  listContainerStats(filter: cri.ContainerStatsFilter | undefined, signal: AbortSignal): Promise<readonly cri.ContainerStats[]>;

  /**
   * Usage of one pod: the pod cgroup, its network interfaces and its containers.
   * @throws NotFoundError when the id is not stored
   * @throws UnavailableError when containerd cannot be reached
   */
  podSandboxStats(id: SandboxId, signal: AbortSignal): Promise<cri.PodSandboxStats>;

  /**
   * Usage of the pods matching a CRI filter (id prefix, labels); all ready pods when absent.
   * @throws UnavailableError when containerd cannot be reached
   */
  listPodSandboxStats(filter: cri.PodSandboxStatsFilter | undefined, signal: AbortSignal): Promise<readonly cri.PodSandboxStats[]>;
}
export const StatsCollector = Symbol('StatsCollector');
