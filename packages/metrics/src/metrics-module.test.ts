import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Container } from 'inversify';
import {
  ContainerdClient, ContainerStore, Logger, PodMetricsCollector, RpcObserver, RuntimeEventBus, RuntimeObserver, SandboxStore, silentLogger,
  Snapshotter, Startable, StatsCollector,
} from '@crikit/core';
import { FakeContainerd } from '@crikit/core/testing';
import { CadvisorPodMetrics } from './cadvisor-pod-metrics.js';
import { ContainerdStatsCollector } from './containerd-stats-collector.js';
import { MetricsConfig, metricsConfigSchema } from './metrics-config.js';
import { metricsModule } from './metrics-module.js';
import { PrometheusEndpoint } from './prometheus-endpoint.js';
import { RuntimeMetrics } from './runtime-metrics.js';

test('metricsModule resolves every token it binds, as singletons behind core\'s tokens', () => {
  const container = new Container();
  container.bind(Logger).toConstantValue(silentLogger);
  container.bind(MetricsConfig).toConstantValue(metricsConfigSchema.parse({}));
  container.bind(ContainerdClient).toConstantValue(new FakeContainerd());
  container.bind(Snapshotter).toConstantValue('overlayfs');
  container.bind(ContainerStore).toConstantValue(new ContainerStore());
  container.bind(SandboxStore).toConstantValue(new SandboxStore());
  container.bind(RuntimeEventBus).toSelf().inSingletonScope();
  container.load(metricsModule);
  assert.equal(container.get(StatsCollector), container.get(ContainerdStatsCollector));
  assert.equal(container.get(PodMetricsCollector), container.get(CadvisorPodMetrics));
  assert.equal(container.get(RpcObserver), container.get(RuntimeMetrics));
  assert.equal(container.get(RuntimeObserver), container.get(RuntimeMetrics));
  assert.ok(container.getAll<Startable>(Startable).includes(container.get(PrometheusEndpoint)));
});

test('metrics config: the endpoint is off by default; an address must be host:port', () => {
  assert.equal(metricsConfigSchema.parse({}).address, '');
  assert.equal(metricsConfigSchema.parse({}).statsCacheMs, 1000);
  assert.equal(metricsConfigSchema.parse({ address: '127.0.0.1:9101' }).address, '127.0.0.1:9101');
  assert.equal(metricsConfigSchema.parse({ address: '[::1]:9101' }).address, '[::1]:9101');
  assert.equal(metricsConfigSchema.safeParse({ address: 'localhost' }).success, false);
});
