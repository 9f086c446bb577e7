import { inject, injectable } from 'inversify';
import type { cri } from '@crikit/api';
import { ContainerStore, PodMetricsCollector, SandboxStore, StatsCollector } from '@crikit/core';
import type { ServiceHandlers } from './grpc/define-service.js';
import type { CriHandlerGroup } from './cri-handler-group.js';
import { required } from './request-fields.js';

/** Stats per Stream*Stats / StreamPodSandboxMetrics message. */
const streamPage = 100;

/** The stats and metrics RPCs of the RuntimeService, translated onto core's StatsCollector and PodMetricsCollector. */
@injectable()
export class StatsHandlers implements CriHandlerGroup {
  constructor(
    @inject(StatsCollector) private readonly stats: StatsCollector,
    @inject(PodMetricsCollector) private readonly metrics: PodMetricsCollector,
    @inject(ContainerStore) private readonly containers: ContainerStore,
    @inject(SandboxStore) private readonly sandboxes: SandboxStore,
  ) {}

  runtime(): ServiceHandlers<typeof cri.RuntimeServiceDefinition> {
    const { stats, metrics } = this;
    return {
      containerStats: async (req, signal) => {
        const id = this.containers.get(required(req.containerId, 'container_id')).metadata.id;
        return { stats: await this.stats.containerStats(id, signal) };
      },
      listContainerStats: async (req, signal) => ({ stats: [...await this.stats.listContainerStats(req.filter, signal)] }),
      // CRI: the Stream* RPCs are their List RPCs in pages, for nodes with more objects than one message holds.
      streamContainerStats: async function* (this: void, req, signal) {
        for (const page of pages(await stats.listContainerStats(req.filter, signal))) yield { containerStats: page };
      },
      podSandboxStats: async (req, signal) => {
        const id = this.sandboxes.get(required(req.podSandboxId, 'pod_sandbox_id')).metadata.id;
        return { stats: await this.stats.podSandboxStats(id, signal) };
      },
      listPodSandboxStats: async (req, signal) => ({ stats: [...await this.stats.listPodSandboxStats(req.filter, signal)] }),
      streamPodSandboxStats: async function* (this: void, req, signal) {
        for (const page of pages(await stats.listPodSandboxStats(req.filter, signal))) yield { podSandboxStats: page };
      },
      listMetricDescriptors: async () => ({ descriptors: [...this.metrics.metricDescriptors()] }),
      listPodSandboxMetrics: async (_req, signal) => ({ podMetrics: [...await this.metrics.listPodSandboxMetrics(signal)] }),
      streamPodSandboxMetrics: async function* (this: void, _req, signal) {
        for (const page of pages(await metrics.listPodSandboxMetrics(signal))) yield { podSandboxMetrics: page };
      },
    };
  }
}

/** `items` in pages of `streamPage` (none for an empty list, as StreamContainers). */
function pages<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += streamPage) out.push(items.slice(i, i + streamPage));
  return out;
}
