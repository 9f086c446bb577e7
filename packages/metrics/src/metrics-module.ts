import { ContainerModule } from 'inversify';
import { PodMetricsCollector, RpcObserver, RuntimeObserver, Startable, StatsCollector } from '@crikit/core';
import { CadvisorPodMetrics } from './cadvisor-pod-metrics.js';
import { ContainerdStatsCollector } from './containerd-stats-collector.js';
import { defaultHostPaths, HostPaths } from './metrics-config.js';
import { PodCgroupReader } from './pod-cgroup-reader.js';
import { PodSampler } from './pod-sampler.js';
import { PrometheusEndpoint } from './prometheus-endpoint.js';
import { RuntimeMetrics } from './runtime-metrics.js';
import { StatsSampler } from './stats-sampler.js';
import { TaskMetricsSampler } from './task-metrics-sampler.js';
import { WritableLayerUsage } from './writable-layer-usage.js';

/**
 * Binds container and pod stats (core's StatsCollector), the cAdvisor-named pod metrics (core's
 * PodMetricsCollector), and crikit's own Prometheus metrics (core's RpcObserver and RuntimeObserver,
 * and the endpoint as a Startable). Needs `MetricsConfig`, `Snapshotter`, `Logger`, the stores and containerd bound.
 */
export const metricsModule = new ContainerModule(options => {
  options.bind(HostPaths).toConstantValue(defaultHostPaths);
  options.bind(TaskMetricsSampler).toSelf().inSingletonScope();
  options.bind(WritableLayerUsage).toSelf().inSingletonScope();
  options.bind(PodCgroupReader).toSelf().inSingletonScope();
  options.bind(PodSampler).toSelf().inSingletonScope();
  options.bind(StatsSampler).toSelf().inSingletonScope();
  options.bind(ContainerdStatsCollector).toSelf().inSingletonScope();
  options.bind(StatsCollector).toService(ContainerdStatsCollector);
  options.bind(CadvisorPodMetrics).toSelf().inSingletonScope();
  options.bind(PodMetricsCollector).toService(CadvisorPodMetrics);
  options.bind(RuntimeMetrics).toSelf().inSingletonScope();
  options.bind(RpcObserver).toService(RuntimeMetrics);
  options.bind(RuntimeObserver).toService(RuntimeMetrics);
  options.bind(PrometheusEndpoint).toSelf().inSingletonScope();
  options.bind(Startable).toService(PrometheusEndpoint);
});
