import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cgroupsV1, packAny } from '@crikit/api';
import { errorKind } from '@crikit/core';
import { FakeContainerd } from '@crikit/core/testing';
import { metricsConfigSchema } from './metrics-config.js';
import { nanoCoresBetween, TaskMetricsSampler } from './task-metrics-sampler.js';

/** A fake containerd whose tasks report `cpuNs()` of CPU at `clockNs()`, for the ids in `running`. */
function containerdWithTasks(running: Set<string>, cpuNs: () => bigint, clockNs: () => bigint): FakeContainerd {
  return new FakeContainerd().handle('tasks.metrics', req => ({
    metrics: req.filters.map(f => f.replace(/^id==/, '')).filter(id => running.has(id)).map(id => ({
      id,
      timestamp: { seconds: clockNs() / 1_000_000_000n, nanos: Number(clockNs() % 1_000_000_000n) },
      data: packAny('io.containerd.cgroups.v1.Metrics', cgroupsV1.Metrics, cgroupsV1.Metrics.fromPartial({ cpu: { usage: { total: cpuNs() } } })),
    })),
  }));
}

const signal = new AbortController().signal;

test('one Tasks.Metrics call serves every id of a read, with one id== filter each', async () => {
  const containerd = containerdWithTasks(new Set(['a', 'b']), () => 5n, () => 1_000_000_000n);
  const sampler = new TaskMetricsSampler(containerd, metricsConfigSchema.parse({}));
  const readings = await sampler.read(['a', 'b', 'never-started'], signal);
  assert.deepEqual(containerd.requestsTo('tasks.metrics').map(r => r.filters), [['id==a', 'id==b', 'id==never-started']]);
  assert.equal(readings.get('a')!.sample!.cpu!.usageNs, 5n);
  assert.equal(readings.get('never-started')!.sample, undefined, 'no task, no sample');
});

test('a read within statsCacheMs is answered from memory; after it, containerd is asked again', async () => {
  const containerd = containerdWithTasks(new Set(['a']), () => 5n, () => 1n);
  const sampler = new TaskMetricsSampler(containerd, metricsConfigSchema.parse({ statsCacheMs: 60_000 }));
  await sampler.read(['a'], signal);
  await sampler.read(['a'], signal);
  assert.equal(containerd.requestsTo('tasks.metrics').length, 1);
  const uncached = new TaskMetricsSampler(containerd, metricsConfigSchema.parse({ statsCacheMs: 0 }));
  await uncached.read(['a'], signal);
  await uncached.read(['a'], signal);
  assert.equal(containerd.requestsTo('tasks.metrics').length, 3);
});

test('concurrent reads share one in-flight call', async () => {
  const containerd = containerdWithTasks(new Set(['a']), () => 5n, () => 1n);
  const sampler = new TaskMetricsSampler(containerd, metricsConfigSchema.parse({}));
  await Promise.all([sampler.read(['a'], signal), sampler.read(['a'], signal), sampler.read(['a'], signal)]);
  assert.equal(containerd.requestsTo('tasks.metrics').length, 1);
});

test('usage_nano_cores comes from the previous sample: unset at first, then Δusage/Δt', async () => {
  let cpu = 1_000_000_000n;
  let clock = 10_000_000_000n;
  const containerd = containerdWithTasks(new Set(['busy']), () => cpu, () => clock);
  const sampler = new TaskMetricsSampler(containerd, metricsConfigSchema.parse({ statsCacheMs: 0 }));
  assert.equal((await sampler.read(['busy'], signal)).get('busy')!.nanoCores, undefined);
  cpu += 1_500_000_000n; // 1.5 s of CPU in 2 s: three quarters of a core
  clock += 2_000_000_000n;
  assert.equal((await sampler.read(['busy'], signal)).get('busy')!.nanoCores, 750_000_000n);
});

test('a caller that goes away does not cancel the batch other callers share', async () => {
  let release!: () => void;
  const gate = new Promise<void>(resolve => { release = resolve; });
  const containerd = new FakeContainerd().handle('tasks.metrics', async req => {
    await gate;
    return { metrics: req.filters.map(f => ({ id: f.slice(4), data: packAny('io.containerd.cgroups.v1.Metrics', cgroupsV1.Metrics, cgroupsV1.Metrics.fromPartial({ cpu: { usage: { total: 9n } } })) })) };
  });
  const sampler = new TaskMetricsSampler(containerd, metricsConfigSchema.parse({}));
  const leaving = new AbortController();
  const first = sampler.read(['a'], leaving.signal);
  const second = sampler.read(['a'], signal);
  leaving.abort();
  await assert.rejects(first, (err: Error) => errorKind(err) === 'cancelled');
  release();
  assert.equal((await second).get('a')!.sample!.cpu!.usageNs, 9n);
  assert.equal(containerd.requestsTo('tasks.metrics').length, 1);
});

test('a containerd failure fails the read and is not cached', async () => {
  const containerd = containerdWithTasks(new Set(['a']), () => 5n, () => 1n);
  const sampler = new TaskMetricsSampler(containerd, metricsConfigSchema.parse({}));
  containerd.failNext('tasks.metrics', new Error('containerd down'));
  await assert.rejects(sampler.read(['a'], signal), /containerd down/);
  assert.equal((await sampler.read(['a'], signal)).get('a')!.sample!.cpu!.usageNs, 5n);
});

test('nanoCoresBetween refuses time that did not advance and counters that went back', () => {
  const at = (t: bigint, u: bigint) => ({ timestampNs: t, cpu: { usageNs: u, userNs: 0n, systemNs: 0n, periods: 0n, throttledPeriods: 0n, throttledNs: 0n }, memory: undefined, swap: undefined, pids: undefined, oomKills: undefined });
  assert.equal(nanoCoresBetween(at(5n, 100n), at(5n, 200n)), undefined);
  assert.equal(nanoCoresBetween(at(5n, 100n), at(6n, 50n)), undefined);
  assert.equal(nanoCoresBetween(at(0n, 0n), at(1_000_000_000n, 2_000_000_000n)), 2_000_000_000n);
});
