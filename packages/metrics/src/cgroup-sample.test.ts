import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cgroupsV1, cgroupsV2, packAny } from '@crikit/api';
import { decodeTaskMetrics } from './cgroup-sample.js';
import { toCpuUsage, toIoUsage, toMemoryUsage } from './cri-usage.js';

// Figures shaped like what containerd 1.6's runc shim reports for a busybox container that wrote
// 64 MiB to /dev/shm (shmem is charged as anon/rss-like, inactive file is small).
const v1 = cgroupsV1.Metrics.fromPartial({
  cpu: { usage: { total: 2_500_000_000n, user: 2_000_000_000n, kernel: 500_000_000n }, throttling: { periods: 10n, throttledPeriods: 2n, throttledTime: 30_000_000n } },
  memory: {
    usage: { usage: 70n << 20n, limit: 9223372036854771712n, max: 72n << 20n, failcnt: 0n },
    swap: { usage: 70n << 20n, limit: 9223372036854771712n },
    kernel: { usage: 1n << 20n },
    totalInactiveFile: 2n << 20n, totalRss: 1n << 20n, totalCache: 66n << 20n, totalMappedFile: 64n << 20n,
    totalPgFault: 17000n, totalPgMajFault: 3n,
  },
  pids: { current: 2n, limit: 0n },
  memoryOomControl: { oomKill: 1n },
});

test('cgroup v1 task metrics decode: cpu in ns, working set = usage − total_inactive_file, no limit', () => {
  const s = decodeTaskMetrics(packAny('io.containerd.cgroups.v1.Metrics', cgroupsV1.Metrics, v1), 42n)!;
  assert.equal(s.timestampNs, 42n);
  assert.deepEqual(s.cpu, { usageNs: 2_500_000_000n, userNs: 2_000_000_000n, systemNs: 500_000_000n, periods: 10n, throttledPeriods: 2n, throttledNs: 30_000_000n });
  assert.equal(s.memory!.usageBytes, 70n << 20n);
  assert.equal(s.memory!.workingSetBytes, 68n << 20n);
  assert.equal(s.memory!.limitBytes, undefined, 'the kernel\'s page-rounded "unlimited" is no limit');
  assert.equal(s.memory!.rssBytes, 1n << 20n);
  assert.equal(s.memory!.pageFaults, 17000n);
  assert.equal(s.memory!.majorPageFaults, 3n);
  assert.deepEqual(s.swap, { usageBytes: 0n, limitBytes: undefined }, 'memsw minus memory: nothing swapped');
  assert.equal(s.pids, 2n);
  assert.equal(s.oomKills, 1n);
});

test('cgroup v1 with a limit and swap in use', () => {
  const limited = cgroupsV1.Metrics.fromPartial({
    ...v1,
    memory: { ...v1.memory!, usage: { usage: 100n, limit: 1000n, max: 0n, failcnt: 4n }, swap: { usage: 150n, limit: 1500n }, totalInactiveFile: 300n },
  });
  const s = decodeTaskMetrics(packAny('types.googleapis.com/io.containerd.cgroups.v1.Metrics', cgroupsV1.Metrics, limited), 1n)!;
  assert.equal(s.memory!.workingSetBytes, 0n, 'inactive file above usage never goes negative');
  assert.equal(s.memory!.limitBytes, 1000n);
  assert.equal(s.memory!.failcnt, 4n);
  assert.deepEqual(s.swap, { usageBytes: 50n, limitBytes: 500n });
});

// A cgroup v2 reading as the runc shim reports it on a unified host (recorded shape: usec CPU counters).
const v2 = cgroupsV2.Metrics.fromPartial({
  pids: { current: 3n, limit: 100n },
  cpu: {
    usageUsec: 1_234_567n, userUsec: 1_000_000n, systemUsec: 234_567n, nrPeriods: 5n, nrThrottled: 1n, throttledUsec: 2_000n,
    psi: { some: { avg10: 1.5, avg60: 0.5, avg300: 0.1, total: 3_000n }, full: { avg10: 0, avg60: 0, avg300: 0, total: 0n } },
  },
  io: { psi: { some: { avg10: 0.25, avg60: 0, avg300: 0, total: 10n } } },
  memory: {
    usage: 80n << 20n, usageLimit: 256n << 20n, anon: 70n << 20n, file: 9n << 20n, fileMapped: 1n << 20n,
    inactiveFile: 4n << 20n, kernelStack: 65536n, slab: 1n << 20n, pgfault: 20000n, pgmajfault: 7n,
    swapUsage: 1n << 20n, swapLimit: 18446744073709551615n, maxUsage: 90n << 20n,
  },
  memoryEvents: { max: 2n, oomKill: 0n },
});

test('cgroup v2 task metrics decode: usec become ns, rss is anon, limits from usage_limit and swap_limit', () => {
  const s = decodeTaskMetrics(packAny('io.containerd.cgroups.v2.Metrics', cgroupsV2.Metrics, v2), 7n)!;
  assert.equal(s.cpu!.usageNs, 1_234_567_000n);
  assert.equal(s.cpu!.userNs, 1_000_000_000n);
  assert.equal(s.cpu!.throttledNs, 2_000_000n);
  assert.equal(s.memory!.workingSetBytes, 76n << 20n);
  assert.equal(s.memory!.limitBytes, 256n << 20n);
  assert.equal(s.memory!.rssBytes, 70n << 20n);
  assert.equal(s.memory!.cacheBytes, 9n << 20n);
  assert.equal(s.memory!.kernelBytes, 65536n + (1n << 20n));
  assert.equal(s.memory!.failcnt, 2n);
  assert.equal(s.memory!.majorPageFaults, 7n);
  assert.deepEqual(s.swap, { usageBytes: 1n << 20n, limitBytes: undefined });
  assert.equal(s.pids, 3n);
  assert.equal(s.oomKills, 0n);
});

test('cgroup v2 pressure (PSI) goes to the CRI cpu, memory and io usage, totals in ns; none on v1', () => {
  const s = decodeTaskMetrics(packAny('io.containerd.cgroups.v2.Metrics', cgroupsV2.Metrics, v2), 7n)!;
  assert.deepEqual(toCpuUsage(s, 5n)!.psi, { Some: { Total: 3_000_000n, Avg10: 1.5, Avg60: 0.5, Avg300: 0.1 }, Full: { Total: 0n, Avg10: 0, Avg60: 0, Avg300: 0 } });
  assert.equal(toMemoryUsage(s)!.psi, undefined, 'no memory pressure reported');
  assert.deepEqual(toIoUsage(s), { timestamp: 7n, psi: { Some: { Total: 10_000n, Avg10: 0.25, Avg60: 0, Avg300: 0 }, Full: undefined } });
  const s1 = decodeTaskMetrics(packAny('io.containerd.cgroups.v1.Metrics', cgroupsV1.Metrics, v1), 1n)!;
  assert.equal(toCpuUsage(s1, undefined)!.psi, undefined);
  assert.equal(toIoUsage(s1), undefined);
});

test('metrics of another type (a Windows or VM runtime) decode to nothing', () => {
  assert.equal(decodeTaskMetrics(packAny('io.microsoft.hcsshim.Statistics', cgroupsV2.Metrics, v2), 1n), undefined);
  assert.equal(decodeTaskMetrics(undefined, 1n), undefined);
});
