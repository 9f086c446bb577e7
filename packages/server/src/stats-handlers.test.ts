import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cri } from '@crikit/api';
import { errorKind, isNotFound } from '@crikit/core';
import {
  containerRecord, containerStoreWith, FakePodMetricsCollector, FakeStatsCollector, sandboxRecord, sandboxStoreWith,
} from '@crikit/core/testing';
import { StatsHandlers } from './stats-handlers.js';

const signal = new AbortController().signal;
const pod = sandboxRecord();
const ctrs = Array.from({ length: 150 }, () => containerRecord({}, pod));

function handlers() {
  const stats = new FakeStatsCollector();
  for (const c of ctrs) stats.setContainerStats(c.metadata.id, pod.metadata.id);
  stats.setPodSandboxStats(pod.metadata.id);
  const metrics = new FakePodMetricsCollector();
  metrics.descriptors = [{ name: 'container_memory_rss', help: 'rss', labelKeys: ['id', 'name', 'image'] }];
  metrics.podMetrics = [cri.PodSandboxMetrics.fromPartial({ podSandboxId: pod.metadata.id })];
  return { stats, metrics, rpc: new StatsHandlers(stats, metrics, containerStoreWith(ctrs), sandboxStoreWith([pod])).runtime() };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('ContainerStats and PodSandboxStats resolve short ids; an empty id is INVALID_ARGUMENT naming the field', async () => {
  const { rpc, stats } = handlers();
  const one = await rpc.containerStats!(cri.ContainerStatsRequest.fromPartial({ containerId: ctrs[0]!.metadata.id.slice(0, 12) }), signal);
  assert.equal(one.stats?.attributes?.id, ctrs[0]!.metadata.id);
  assert.deepEqual(stats.argsOf('containerStats')[0]![0], ctrs[0]!.metadata.id);
  await assert.rejects(rpc.containerStats!(cri.ContainerStatsRequest.fromPartial({}), signal), (e: Error) => errorKind(e) === 'invalid-argument' && /container_id/.test(e.message));
  await assert.rejects(rpc.podSandboxStats!(cri.PodSandboxStatsRequest.fromPartial({ podSandboxId: 'unknown' }), signal), isNotFound);
  assert.equal((await rpc.podSandboxStats!(cri.PodSandboxStatsRequest.fromPartial({ podSandboxId: pod.metadata.id.slice(0, 8) }), signal)).stats?.attributes?.id, pod.metadata.id);
});

test('the List RPCs pass the filter on; the Stream RPCs send the same list in pages of 100', async () => {
  const { rpc, stats } = handlers();
  const filter = cri.ContainerStatsFilter.fromPartial({ podSandboxId: pod.metadata.id });
  assert.equal((await rpc.listContainerStats!(cri.ListContainerStatsRequest.fromPartial({ filter }), signal)).stats?.length, 150);
  assert.deepEqual(stats.argsOf('listContainerStats')[0]![0], filter);
  const pages = await collect(rpc.streamContainerStats!(cri.StreamContainerStatsRequest.fromPartial({ filter }), signal));
  assert.deepEqual(pages.map(p => p.containerStats?.length), [100, 50]);
  const podPages = await collect(rpc.streamPodSandboxStats!(cri.StreamPodSandboxStatsRequest.fromPartial({}), signal));
  assert.deepEqual(podPages.map(p => p.podSandboxStats?.length), [1]);
});

test('metrics RPCs answer from the PodMetricsCollector', async () => {
  const { rpc } = handlers();
  assert.deepEqual((await rpc.listMetricDescriptors!(cri.ListMetricDescriptorsRequest.fromPartial({}), signal)).descriptors?.map(d => d.name), ['container_memory_rss']);
  assert.equal((await rpc.listPodSandboxMetrics!(cri.ListPodSandboxMetricsRequest.fromPartial({}), signal)).podMetrics?.[0]?.podSandboxId, pod.metadata.id);
  const pages = await collect(rpc.streamPodSandboxMetrics!(cri.StreamPodSandboxMetricsRequest.fromPartial({}), signal));
  assert.equal(pages.length, 1);
});
