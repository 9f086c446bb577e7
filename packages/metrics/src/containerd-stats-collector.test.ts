import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { cgroupsV1, cri, packAny } from '@crikit/api';
import { isFailedPrecondition, isNotFound, silentLogger, type ContainerId, type SandboxId } from '@crikit/core';
import { containerRecord, containerStoreWith, FakeContainerd, sandboxRecord, sandboxStoreWith } from '@crikit/core/testing';
import { ContainerdStatsCollector } from './containerd-stats-collector.js';
import { metricsConfigSchema } from './metrics-config.js';
import { PodCgroupReader } from './pod-cgroup-reader.js';
import { PodSampler } from './pod-sampler.js';
import { StatsSampler } from './stats-sampler.js';
import { TaskMetricsSampler } from './task-metrics-sampler.js';
import { WritableLayerUsage } from './writable-layer-usage.js';

const signal = new AbortController().signal;
const host = fs.mkdtempSync(path.join(os.tmpdir(), 'stats-host-'));
after(() => fs.rmSync(host, { recursive: true, force: true }));
function write(rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(host, rel)), { recursive: true });
  fs.writeFileSync(path.join(host, rel), text);
}

// Pod A has a cgroup parent and a netns; pod B (a crictl pod) has neither parent nor netns.
const podA = sandboxRecord({ metadata: { config: cri.PodSandboxConfig.fromPartial({ metadata: { name: 'a', namespace: 'ns', uid: 'ua' }, labels: { app: 'a' }, linux: { cgroupParent: '/kubepods/poda' } }) }, status: { pid: 4242 } });
const podB = sandboxRecord({ metadata: { netnsPath: undefined, config: cri.PodSandboxConfig.fromPartial({ metadata: { name: 'b', namespace: 'ns', uid: 'ub' }, labels: { app: 'b' } }) }, status: { pid: 4343 } });
const stopped = sandboxRecord({ status: { state: 'notready', pid: 0 } });
const web = containerRecord({ metadata: { config: cri.ContainerConfig.fromPartial({ metadata: { name: 'web' }, labels: { tier: 'front' }, image: { image: 'busybox' } }) }, status: { state: 'running', pid: 5000 } }, podA);
const created = containerRecord({ metadata: { config: cri.ContainerConfig.fromPartial({ metadata: { name: 'idle' }, labels: { tier: 'back' } }) } }, podA);
const worker = containerRecord({ metadata: { config: cri.ContainerConfig.fromPartial({ metadata: { name: 'worker' }, labels: { tier: 'back' } }) }, status: { state: 'running', pid: 6000 } }, podB);
const running = new Map<string, cgroupsV1.Metrics>([
  [web.metadata.id, cgroupsV1.Metrics.fromPartial({ cpu: { usage: { total: 3_000_000_000n } }, memory: { usage: { usage: 80n << 20n, limit: 128n << 20n }, totalInactiveFile: 16n << 20n, totalRss: 60n << 20n }, pids: { current: 3n } })],
  [worker.metadata.id, cgroupsV1.Metrics.fromPartial({ cpu: { usage: { total: 1_000_000_000n } }, memory: { usage: { usage: 10n << 20n, limit: 1n << 63n } }, pids: { current: 1n } })],
  [podB.metadata.id, cgroupsV1.Metrics.fromPartial({ cpu: { usage: { total: 20_000_000n } }, memory: { usage: { usage: 1n << 20n, limit: 1n << 63n } }, pids: { current: 1n } })],
]);

write('cpuacct/kubepods/poda/cpuacct.usage', '3500000000\n');
write('memory/kubepods/poda/memory.usage_in_bytes', `${90 << 20}\n`);
write('memory/kubepods/poda/memory.limit_in_bytes', `${256 << 20}\n`);
write('memory/kubepods/poda/memory.stat', `total_inactive_file ${16 << 20}\ntotal_rss ${62 << 20}\n`);
write('proc/4242/net/dev', 'Inter-|\n face |\n    lo: 5 1 0 0 0 0 0 0 5 1 0 0 0 0 0 0\n  eth0: 1000 10 1 0 0 0 0 0 2000 20 2 0 0 0 0 0\n');

function collector(): { stats: ContainerdStatsCollector; containerd: FakeContainerd } {
  const containerd = new FakeContainerd()
    .handle('tasks.metrics', req => ({
      metrics: req.filters.map(f => f.slice('id=='.length)).filter(id => running.has(id))
        .map(id => ({ id, timestamp: { seconds: 100n, nanos: 0 }, data: packAny('io.containerd.cgroups.v1.Metrics', cgroupsV1.Metrics, running.get(id)!) })),
    }))
    .handle('snapshots.usage', req => ({ size: req.key === web.metadata.id ? 4096n : 0n, inodes: 3n }))
    .handle('introspection.plugins', () => ({ plugins: [{ type: 'io.containerd.snapshotter.v1', id: 'overlayfs', exports: { root: '/var/lib/containerd/overlayfs' } }] }));
  const config = metricsConfigSchema.parse({});
  const paths = { cgroupRoot: host, procRoot: path.join(host, 'proc') };
  const sampler = new StatsSampler(containerStoreWith([web, created, worker]), new TaskMetricsSampler(containerd, config),
    new WritableLayerUsage(containerd, 'overlayfs', config, silentLogger), new PodSampler(new PodCgroupReader(paths), paths, config));
  return { stats: new ContainerdStatsCollector(containerStoreWith([web, created, worker]), sandboxStoreWith([podA, podB, stopped]), sampler), containerd };
}

test('ListContainerStats: every container, one Tasks.Metrics call, figures from the cgroup and the snapshotter', async () => {
  const { stats, containerd } = collector();
  const list = await stats.listContainerStats(undefined, signal);
  assert.equal(containerd.requestsTo('tasks.metrics').length, 1);
  const byName = new Map(list.map(s => [s.attributes!.metadata!.name, s]));
  const w = byName.get('web')!;
  assert.equal(w.attributes!.id, web.metadata.id);
  assert.deepEqual(w.attributes!.labels, { tier: 'front' });
  assert.equal(w.cpu!.usageCoreNanoSeconds!.value, 3_000_000_000n);
  assert.equal(w.cpu!.timestamp, 100_000_000_000n);
  assert.equal(w.memory!.workingSetBytes!.value, 64n << 20n);
  assert.equal(w.memory!.availableBytes!.value, 64n << 20n, 'limit − working set');
  assert.equal(w.memory!.rssBytes!.value, 60n << 20n);
  assert.deepEqual(w.writableLayer, { timestamp: w.writableLayer!.timestamp, fsId: { mountpoint: '/var/lib/containerd/overlayfs' }, usedBytes: { value: 4096n }, inodesUsed: { value: 3n } });
  // CRI (as containerd): a created container is listed, without cpu or memory.
  const idle = byName.get('idle')!;
  assert.equal(idle.cpu, undefined);
  assert.equal(idle.memory, undefined);
  assert.equal(idle.writableLayer!.usedBytes!.value, 0n);
  assert.equal(byName.get('worker')!.memory!.availableBytes!.value, 0n, 'no limit, nothing available reported');
});

test('ListContainerStats filters by id prefix, pod id prefix and labels', async () => {
  const { stats } = collector();
  const names = async (filter: Partial<cri.ContainerStatsFilter>) =>
    (await stats.listContainerStats(cri.ContainerStatsFilter.fromPartial(filter), signal)).map(s => s.attributes!.metadata!.name).sort();
  assert.deepEqual(await names({ id: web.metadata.id.slice(0, 12) }), ['web']);
  assert.deepEqual(await names({ podSandboxId: podA.metadata.id.slice(0, 8) }), ['idle', 'web']);
  assert.deepEqual(await names({ labelSelector: { tier: 'back' } }), ['idle', 'worker']);
  assert.deepEqual(await names({ podSandboxId: podA.metadata.id, labelSelector: { tier: 'back' } }), ['idle']);
});

test('ContainerStats of an unknown id is NotFound', async () => {
  const { stats } = collector();
  await assert.rejects(stats.containerStats('nope' as ContainerId, signal), isNotFound);
  assert.equal((await stats.containerStats(web.metadata.id, signal)).attributes!.id, web.metadata.id);
});

test('PodSandboxStats: the pod cgroup\'s cpu and memory, the netns interfaces, process count and containers', async () => {
  const { stats } = collector();
  const a = (await stats.podSandboxStats(podA.metadata.id, signal)).linux!;
  assert.equal(a.cpu!.usageCoreNanoSeconds!.value, 3_500_000_000n);
  assert.equal(a.memory!.workingSetBytes!.value, 74n << 20n);
  assert.equal(a.memory!.availableBytes!.value, 182n << 20n);
  assert.deepEqual(a.network!.interfaces.map(i => i.name), ['eth0']);
  assert.equal(a.network!.defaultInterface!.rxBytes!.value, 1000n);
  assert.equal(a.network!.defaultInterface!.txErrors!.value, 2n);
  assert.equal(a.process!.processCount!.value, 3n, 'the containers\' pids (containerd\'s rule)');
  assert.deepEqual(a.containers.map(c => c.attributes!.metadata!.name).sort(), ['idle', 'web']);
});

test('a pod without a cgroup parent reports its pause task plus containers, and no network without a netns', async () => {
  const { stats, containerd } = collector();
  const b = (await stats.podSandboxStats(podB.metadata.id, signal)).linux!;
  assert.deepEqual(containerd.requestsTo('tasks.metrics')[0]!.filters.sort(), [`id==${podB.metadata.id}`, `id==${worker.metadata.id}`].sort());
  assert.equal(b.cpu!.usageCoreNanoSeconds!.value, 1_020_000_000n);
  assert.equal(b.memory!.usageBytes!.value, 11n << 20n);
  assert.equal(b.network, undefined);
});

test('ListPodSandboxStats: ready pods only, filtered; PodSandboxStats of a stopped pod is refused', async () => {
  const { stats } = collector();
  assert.deepEqual((await stats.listPodSandboxStats(undefined, signal)).map(p => p.attributes!.id).sort(), [podA.metadata.id, podB.metadata.id].sort());
  assert.deepEqual((await stats.listPodSandboxStats(cri.PodSandboxStatsFilter.fromPartial({ labelSelector: { app: 'b' } }), signal)).map(p => p.attributes!.id), [podB.metadata.id]);
  await assert.rejects(stats.podSandboxStats(stopped.metadata.id, signal), isFailedPrecondition);
  await assert.rejects(stats.podSandboxStats('nope' as SandboxId, signal), isNotFound);
});
