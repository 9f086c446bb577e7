// `pnpm bench:stats`: ListContainerStats and ListPodSandboxStats latency through crikit's CRI and through
// containerd's own CRI plugin, in the same run, with 50 running containers in 25 pods per side (each pod in a
// cgroup parent of its own, as the kubelet gives every pod, on real CNI); prints p50, p90 and p99, the ratios
// crikit/containerd, and crikit's RSS.
//
//   node test/dist/bench/stats.js [--pods N] [--per-pod N] [--calls N]                              (needs root)
//
// crikit runs with `metrics.statsCacheMs = 0`, so every timed call samples anew (one Tasks.Metrics call, the
// pod cgroup files, /proc/<pid>/net/dev) as containerd's CRI does on every call; with the default 1 s window a
// kubelet polling every 10 s would see the same cost. Writable layers are measured in the background by
// containerd's CRI and cached for 10 s by crikit, so neither side walks layers during the timed calls.
// Calls go in blocks of 10 per side, the side going first alternating. Every answer is checked (all containers
// listed with CPU figures, all pods with their containers); nothing here asserts on time.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { cri, type PartialMessage } from '@crikit/api';
import { busyboxImage, pauseImage } from '@crikit/testkit';
import { startBenchRegistry } from './bench-registry.js';
import { record, reading, recordLatency } from './bench-record.js';
import { formatMiB, latencyTable, type LatencyRow } from './bench-stats.js';
import { beginBenchmark, peakMemoryLines, startContainerdCriSide, startCrikitSide, type BenchSide, type SideMemory, type SideName } from './harness.js';
import { readMemory } from './memory-sampler.js';
import { benchNetwork, killPodLeftovers, netnsPins, removeCgroupParent, type BenchNetwork } from './pod-network.js';
import { runBenchmark, teardown } from './run-benchmark.js';

/** Under this parent each pod gets `<side>-<n>`: own bridges, subnets and cgroups, never meeting the other benchmarks. */
const cgroupParent = 'crikit-bench-stats';
const namespace = 'crikit-bench';
const block = 10;
const warmUpCalls = 3;
const rpcTimeoutMs = 60_000;
const setupConcurrency = 4;
const sideNames: readonly SideName[] = ['crikit', 'containerd'];
const rpcs = ['containers', 'pods'] as const;
type Rpc = (typeof rpcs)[number];

interface Options { readonly pods: number; readonly perPod: number; readonly calls: number }

function options(): Options {
  const { values } = parseArgs({ options: { pods: { type: 'string' }, 'per-pod': { type: 'string' }, calls: { type: 'string' } } });
  const int = (name: string, raw: string | undefined, dflt: number): number => {
    const n = Number(raw ?? dflt);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${raw}`);
    return n;
  };
  return { pods: int('pods', values.pods, 25), perPod: int('per-pod', values['per-pod'], 2), calls: int('calls', values.calls, 50) };
}

interface StatsSide {
  readonly name: SideName;
  readonly side: BenchSide;
  readonly network: BenchNetwork;
  readonly samples: Record<Rpc, number[]>;
  /** Set when the side answers ListPodSandboxStats with UNIMPLEMENTED. */
  podStatsUnsupported: string | undefined;
}

function failure(s: StatsSide, message: string, cause?: unknown): Error {
  return new Error(`${s.name}: ${message}\n--- last ${s.name} log lines ---\n${s.side.logTail(25).join('\n')}`, { cause });
}

/** Every pod cgroup under the benchmark's parent, as `<parent>/<pod>` (for leftovers of a killed run). */
function podParents(): string[] {
  const roots = existsSync('/sys/fs/cgroup/cgroup.controllers') ? ['/sys/fs/cgroup'] : readdirSync('/sys/fs/cgroup').map(d => path.join('/sys/fs/cgroup', d));
  const found = new Set<string>();
  for (const root of roots) {
    const dir = path.join(root, cgroupParent);
    if (existsSync(dir)) for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) found.add(`${cgroupParent}/${e.name}`);
  }
  return [...found];
}

function cleanCgroups(sideDirs: readonly string[], netnsBefore: ReadonlySet<string>): void {
  for (const parent of podParents()) {
    killPodLeftovers(parent, sideDirs, netnsBefore);
    removeCgroupParent(parent);
  }
  removeCgroupParent(cgroupParent);
}

async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && failures.length === 0) await fn(items[next++]!).catch(err => { failures.push(err); });
  }));
  if (failures.length > 0) throw failures[0];
}

/** Runs pod `n` of a side with `perPod` running `exec sleep 1000` containers. */
async function runPod(s: StatsSide, n: number, perPod: number, image: string): Promise<void> {
  const rt = s.side.client.runtime;
  const name = `stats-${s.name}-${n}`;
  const uid = randomUUID();
  const logDirectory = s.network.logDir(`${namespace}_${name}_${uid}`);
  mkdirSync(logDirectory, { recursive: true });
  const config: PartialMessage<cri.PodSandboxConfig> = {
    metadata: { name, namespace, uid, attempt: 0 }, hostname: name, logDirectory,
    labels: { app: name, 'io.kubernetes.pod.uid': uid },
    linux: {
      cgroupParent: `/${cgroupParent}/${s.name}-${n}`,
      securityContext: { namespaceOptions: { network: cri.NamespaceMode.POD, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD } },
    },
  };
  const { podSandboxId } = await rt.runPodSandbox({ config }, { timeoutMs: rpcTimeoutMs })
    .catch(err => { throw failure(s, `RunPodSandbox of ${name} failed: ${(err as Error).message}`, err); });
  for (let i = 0; i < perPod; i++) {
    const cname = `c${i}`;
    mkdirSync(path.join(logDirectory, cname), { recursive: true });
    const { containerId } = await rt.createContainer({
      podSandboxId, sandboxConfig: config,
      config: {
        metadata: { name: cname, attempt: 0 }, image: { image }, command: ['/bin/sh', '-c', 'exec sleep 1000'],
        logPath: `${cname}/0.log`, labels: { 'io.kubernetes.container.name': cname, 'io.kubernetes.pod.uid': uid },
        linux: { securityContext: { namespaceOptions: { network: cri.NamespaceMode.POD, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD } } },
      },
    }, { timeoutMs: rpcTimeoutMs }).catch(err => { throw failure(s, `CreateContainer in ${name} failed: ${(err as Error).message}`, err); });
    await rt.startContainer({ containerId }, { timeoutMs: rpcTimeoutMs })
      .catch(err => { throw failure(s, `StartContainer in ${name} failed: ${(err as Error).message}`, err); });
  }
}

/** One timed call of each RPC, checked. */
async function timedCalls(s: StatsSide, o: Options): Promise<Partial<Record<Rpc, number>>> {
  const rt = s.side.client.runtime;
  const total = o.pods * o.perPod;
  let t = performance.now();
  const { stats } = await rt.listContainerStats({}, { timeoutMs: rpcTimeoutMs })
    .catch(err => { throw failure(s, `ListContainerStats failed: ${(err as Error).message}`, err); });
  const containersMs = performance.now() - t;
  const withCpu = stats.filter(x => (x.cpu?.usageCoreNanoSeconds?.value ?? 0n) > 0n).length;
  if (stats.length !== total || withCpu !== total) throw failure(s, `ListContainerStats gave ${stats.length} containers (${withCpu} with CPU figures), expected ${total}`);
  if (s.podStatsUnsupported) return { containers: containersMs };
  t = performance.now();
  try {
    const pods = (await rt.listPodSandboxStats({}, { timeoutMs: rpcTimeoutMs })).stats;
    const podsMs = performance.now() - t;
    const complete = pods.filter(p => p.linux?.containers.length === o.perPod && p.linux.memory?.workingSetBytes !== undefined).length;
    if (pods.length !== o.pods || complete !== o.pods) throw failure(s, `ListPodSandboxStats gave ${pods.length} pods (${complete} with memory and ${o.perPod} containers), expected ${o.pods}`);
    return { containers: containersMs, pods: podsMs };
  } catch (err) {
    if ((err as { code?: number }).code === 12) { s.podStatsUnsupported = (err as Error).message; return { containers: containersMs }; }
    throw err;
  }
}

async function removeEverything(side: BenchSide): Promise<void> {
  const rt = side.client.runtime;
  const { containers } = await rt.listContainers({}, { timeoutMs: 10_000 });
  await pool(containers, setupConcurrency, async ({ id }) => {
    await rt.stopContainer({ containerId: id, timeout: 0n }, { timeoutMs: 30_000 });
    await rt.removeContainer({ containerId: id }, { timeoutMs: 30_000 });
  });
  const { items } = await rt.listPodSandbox({}, { timeoutMs: 10_000 });
  await pool(items, setupConcurrency, async ({ id }) => {
    await rt.stopPodSandbox({ podSandboxId: id }, { timeoutMs: 30_000 });
    await rt.removePodSandbox({ podSandboxId: id }, { timeoutMs: 30_000 });
  });
}

async function main(signal: AbortSignal): Promise<void> {
  const o = options();
  const { say, load, elapsed } = beginBenchmark('bench:stats', 'netns, mounts, cgroups, bridges');
  const registry = await startBenchRegistry();
  const sandboxImage = await registry.push('bench/pause', await pauseImage(), '3.10');
  const busybox = await registry.push('bench/busybox', await busyboxImage(), '1');
  const netnsBefore = netnsPins();
  const sideDirs: string[] = [];
  cleanCgroups([], netnsBefore);
  // Registered before the sides, so it runs after they stopped (teardown goes last first).
  teardown.add('kill leftovers and remove the pod cgroups', async () => cleanCgroups(sideDirs, netnsBefore), () => cleanCgroups(sideDirs, netnsBefore));
  const networks: Record<SideName, BenchNetwork> = {
    crikit: benchNetwork('crikit-bench-stats', 'ckb5', 205),
    containerd: benchNetwork('containerd-bench-stats', 'ckb6', 206),
  };
  const sides = {} as Record<SideName, StatsSide>;
  const removed: Partial<Record<SideName, () => void>> = {};
  for (const name of sideNames) {
    signal.throwIfAborted();
    const network = networks[name];
    const side = name === 'crikit'
      ? await startCrikitSide({
        registryHostsDir: registry.hostsDir, cniConfDir: network.confDir,
        config: { sandbox: { sandboxImage }, runtimes: { restrictOomScoreAdj: true }, cni: { binDirs: ['/usr/lib/cni'] }, metrics: { statsCacheMs: 0 } },
      })
      : await startContainerdCriSide({ registryHostsDir: registry.hostsDir, cniConfDir: network.confDir, cniBinDir: '/usr/lib/cni', sandboxImage });
    sideDirs.push(side.dir);
    removed[name] = teardown.add(`remove containers and pods on ${name}`, () => removeEverything(side), () => {});
    sides[name] = { name, side, network, samples: { containers: [], pods: [] }, podStatsUnsupported: undefined };
  }
  say(`both sides up (${elapsed()})`);

  for (const name of sideNames) {
    const s = sides[name];
    const t = performance.now();
    await s.side.client.image.pullImage({ image: { image: sandboxImage } }, { timeoutMs: rpcTimeoutMs });
    const { imageRef } = await s.side.client.image.pullImage({ image: { image: busybox } }, { timeoutMs: rpcTimeoutMs });
    await pool(Array.from({ length: o.pods }, (_, i) => i), setupConcurrency, async n => { signal.throwIfAborted(); await runPod(s, n, o.perPod, imageRef); });
    for (let i = 0; i < warmUpCalls; i++) await timedCalls(s, o);
    say(`${name.padEnd(10)} ${o.pods} pods with ${o.pods * o.perPod} running containers in ${((performance.now() - t) / 1000).toFixed(1)} s (${elapsed()})`);
  }

  for (let b = 0; b < Math.ceil(o.calls / block); b++) {
    for (const name of b % 2 === 0 ? sideNames : [...sideNames].reverse()) {
      const s = sides[name];
      for (let i = b * block; i < Math.min(o.calls, (b + 1) * block); i++) {
        signal.throwIfAborted();
        const times = await timedCalls(s, o);
        for (const rpc of rpcs) if (times[rpc] !== undefined) s.samples[rpc].push(times[rpc]);
      }
    }
  }
  const crikitRss = readMemory(sides.crikit.side.criPid);
  say(`calls done (${elapsed()})`);

  for (const name of sideNames) {
    const t = performance.now();
    await removeEverything(sides[name].side).catch(err => { throw failure(sides[name], `removing everything failed: ${(err as Error).message}`, err); });
    removed[name]!();
    say(`cleanup   ${name.padEnd(10)} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const memory = {} as Record<SideName, SideMemory>;
  for (const name of sideNames) memory[name] = await sides[name].side.stop();

  const total = o.pods * o.perPod;
  const rows: LatencyRow[] = [[`ListContainerStats (${total} running)`, sides.crikit.samples.containers, sides.containerd.samples.containers]];
  if (sides.containerd.samples.pods.length > 0) rows.push([`ListPodSandboxStats (${o.pods} pods)`, sides.crikit.samples.pods, sides.containerd.samples.pods]);
  recordLatency('stats', rows);
  if (crikitRss) record([{ bench: 'stats', operation: `crikitd RSS with ${total} running containers`, unit: 'MiB', crikit: reading(crikitRss.rssKiB / 1024) }]);
  const out = [
    `stats: ${o.calls} calls of each RPC per side, ${o.pods} pods with ${o.perPod} running containers each (ms)`,
    latencyTable(rows),
    ...(sides.containerd.podStatsUnsupported
      ? [`ListPodSandboxStats: containerd answers UNIMPLEMENTED (${sides.containerd.podStatsUnsupported}); crikit p50 ${median(sides.crikit.samples.pods)} ms`]
      : []),
    `crikit RSS after the calls ${crikitRss ? formatMiB(crikitRss.rssKiB, 'KiB') : 'n/a'}`,
    ...peakMemoryLines(memory),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  say(`load average ${load()}; ${elapsed()}`);
}

function median(values: readonly number[]): string {
  if (values.length === 0) return 'n/a';
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length / 2) - 1]!.toFixed(2);
}

runBenchmark('bench:stats', main, { timeoutMs: 15 * 60_000 });
