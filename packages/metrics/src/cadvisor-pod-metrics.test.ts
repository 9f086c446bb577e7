import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cri } from '@crikit/api';
import { containerRecord, sandboxRecord } from '@crikit/core/testing';
import { containerMetrics, podMetrics } from './cadvisor-pod-metrics.js';
import { metricDescriptors } from './metric-descriptors.js';
import type { CgroupSample } from './cgroup-sample.js';

const sample: CgroupSample = {
  timestampNs: 5_000_000_000n,
  cpu: { usageNs: 7_900_000_000n, userNs: 5_000_000_000n, systemNs: 2_900_000_000n, periods: 0n, throttledPeriods: 0n, throttledNs: 0n },
  memory: { usageBytes: 100n, workingSetBytes: 80n, limitBytes: 1000n, rssBytes: 60n, cacheBytes: 40n, mappedFileBytes: 1n, maxUsageBytes: 120n, failcnt: 0n, kernelBytes: 2n, pageFaults: 9n, majorPageFaults: 1n },
  swap: { usageBytes: 0n, limitBytes: undefined },
  pids: 2n,
  oomKills: 0n,
};
const pod = sandboxRecord();
const ctr = containerRecord({ status: { state: 'running', resources: cri.ContainerResources.fromPartial({ linux: { memoryLimitInBytes: 1000n, cpuShares: 512n } }) } }, pod);
const descriptors = new Map(metricDescriptors.map(d => [d.name, d]));

test('every metric has a descriptor and as many label values as the descriptor has keys', () => {
  const metrics = containerMetrics({ record: ctr, task: { sample, nanoCores: undefined }, layer: { timestampNs: 1n, usedBytes: 4096n, inodesUsed: 2n } },
    { bytes: 1n << 30n, inodes: 1000n, inodesFree: 900n }, 5_000_000_000n);
  for (const m of metrics) {
    const d = descriptors.get(m.name);
    assert.ok(d, `${m.name} is described`);
    assert.equal(m.labelValues.length, d.labelKeys.length, m.name);
  }
  const value = (name: string, ...labels: string[]) => metrics.find(m => m.name === name && labels.every(l => m.labelValues.includes(l)))?.value?.value;
  assert.equal(value('container_cpu_usage_seconds_total', 'total'), 7n, 'whole seconds, as CRI-O sends them');
  assert.equal(value('container_memory_working_set_bytes'), 80n);
  assert.equal(value('container_memory_rss'), 60n);
  assert.equal(value('container_fs_usage_bytes'), 4096n);
  assert.equal(value('container_spec_memory_limit_bytes'), 1000n);
  assert.equal(value('container_spec_cpu_shares'), 512n);
  assert.deepEqual(metrics.find(m => m.name === 'container_memory_rss')!.labelValues, [ctr.metadata.id, ctr.metadata.name, 'docker.io/library/busybox:latest']);
  assert.equal(metrics.find(m => m.name === 'container_cpu_usage_seconds_total')!.metricType, cri.MetricType.COUNTER);
  assert.equal(metrics.find(m => m.name === 'container_memory_rss')!.metricType, cri.MetricType.GAUGE);
});

test('the pod carries the network counters per interface, named POD', () => {
  const m = podMetrics({
    sandbox: pod,
    pod: { timestampNs: 1n, sample: undefined, nanoCores: undefined, interfaces: [{ name: 'eth0', rxBytes: 10n, rxPackets: 1n, rxErrors: 0n, rxDropped: 0n, txBytes: 20n, txPackets: 2n, txErrors: 0n, txDropped: 0n }] },
    containers: [],
  }, undefined, 1n);
  const rx = m.metrics.find(x => x.name === 'container_network_receive_bytes_total')!;
  assert.deepEqual(rx.labelValues, [pod.metadata.id, 'POD', '', 'eth0']);
  assert.equal(rx.value!.value, 10n);
  assert.equal(m.metrics.find(x => x.name === 'container_network_transmit_bytes_total')!.value!.value, 20n);
});

test('the descriptors cover the cAdvisor names the kubelet reads', () => {
  for (const name of ['container_cpu_usage_seconds_total', 'container_memory_working_set_bytes', 'container_memory_rss',
    'container_network_receive_bytes_total', 'container_network_transmit_bytes_total', 'container_fs_usage_bytes', 'container_spec_memory_limit_bytes']) {
    assert.ok(descriptors.has(name), name);
    assert.deepEqual(descriptors.get(name)!.labelKeys.slice(0, 3), ['id', 'name', 'image']);
  }
});
