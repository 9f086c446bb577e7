// `pnpm bench:pods`: RunPodSandbox, PodSandboxStatus, StopPodSandbox and RemovePodSandbox latency through crikit's
// CRI and through containerd's own CRI plugin, in the same run, with real CNI networking and the same pause image
// from a local registry; prints p50, p90 and p99 per RPC and scenario, the ratios and peak memory.
//
//   node test/dist/bench/pods.js [--pods N] [--concurrent N] [--rounds R]
//                                [--cpu-prof-dir DIR] [--log-level LEVEL] [--crikit-log FILE]      (needs root)
//                                [--verbose-status] [--hold N] [--scratch N] [--crikit-node-arg ARG]...
//
// `--verbose-status` asks PodSandboxStatus for its verbose `info`, as `crictl inspectp` and independent CRI
// benchmark clients do.
//
// Scenarios, each on both sides:
//  - sequential: N pods (30) one at a time, each run → status → stop → remove, as a kubelet does one pod's life,
//    in blocks of 10 per side: crikit's block first, then containerd's, then the other way round, and so on;
//  - concurrent: N pods (10) at once: all run together, then the status of all together, then all stopped
//    together, then all removed together; R rounds (3) per side, containerd's round first, then alternating.
//    Every call's own latency is a sample.
//  - from scratch: N times (20) one pod and its container, RunPodSandbox to RemovePodSandbox, timed as one
//    (from-scratch.ts), in blocks of 10 per side, the side going first alternating.
// Both sides run for the whole benchmark, each with a bridge and /24 of its own; the side not being timed has no
// pods. Before timing, each side pulls the pause image through CRI PullImage and runs 2 pods (warm-up). Every
// RunPodSandbox must give a READY pod with an IP in its side's subnet (checked on the timed PodSandboxStatus);
// anything else aborts with the side's last log lines. Nothing here asserts on time.
// Memory: the resident set (VmRSS) of crikitd and of the containerd each side runs, idle (both sides up, nothing
// run yet) and while each side holds `--hold` pods (100; 0 skips it), started 10 at a time, all READY.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { cri, type PartialMessage } from '@crikit/api';
import { busyboxImage, pauseImage } from '@crikit/testkit';
import { startBenchRegistry } from './bench-registry.js';
import { podFromScratch, type ScratchTarget } from './from-scratch.js';
import { figures, reading, record, recordLatency } from './bench-record.js';
import { latencyTable } from './bench-stats.js';
import { beginBenchmark, peakMemoryLines, startContainerdCriSide, startCrikitSide, type BenchSide, type SideMemory, type SideName } from './harness.js';
import { benchNetwork, cleanCgroupParentAtTeardown, killPodLeftovers, netnsPins, removeCgroupParent, type BenchNetwork } from './pod-network.js';
import { readMemory } from './memory-sampler.js';
import { runBenchmark, teardown } from './run-benchmark.js';

const rpcs = ['run', 'status', 'stop', 'remove'] as const;
type Rpc = (typeof rpcs)[number];
const scenarios = ['sequential', 'concurrent'] as const;
type Scenario = (typeof scenarios)[number];
type Samples = Record<Scenario, Record<Rpc, number[]>>;

const cgroupParent = 'crikit-bench';
const namespace = 'crikit-bench';
const warmUpPods = 2;
/** Sequential pods run in blocks of this many per side, the side going first alternating. */
const sequentialBlock = 10;
const rpcTimeoutMs = 60_000;
const sideNames: readonly SideName[] = ['crikit', 'containerd'];

/** A side with its network and what was timed on it. */
interface PodSide {
  readonly name: SideName;
  readonly side: BenchSide;
  readonly network: BenchNetwork;
  readonly samples: Samples;
  /** Unregisters the teardown step that removes the side's pods (once the side is known to have none). */
  readonly podsRemoved: () => void;
  /** The benchmark's deadline or interrupt: no new call starts once it fired. */
  readonly signal: AbortSignal;
  /** Whether PodSandboxStatus asks for the verbose `info`. */
  readonly verboseStatus: boolean;
}

interface Options {
  readonly pods: number;
  readonly concurrent: number;
  readonly rounds: number;
  readonly cpuProfDir: string | undefined;
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  /** Where to write crikitd's last log lines (up to 2,000) at the end. */
  readonly crikitLog: string | undefined;
  /** Whether PodSandboxStatus asks for the verbose `info`. */
  readonly verboseStatus: boolean;
  /** How many pods each side holds at once while its memory is read (0: not measured). */
  readonly hold: number;
  /** How many pods with a container each side runs from scratch (0: not measured). */
  readonly scratch: number;
  /** Extra node flags for crikitd (e.g. `--import=/tmp/loop-delay.mjs` when profiling). */
  readonly crikitNodeArgs: readonly string[];
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      pods: { type: 'string' }, concurrent: { type: 'string' }, rounds: { type: 'string' },
      'cpu-prof-dir': { type: 'string' }, 'log-level': { type: 'string' }, 'crikit-log': { type: 'string' },
      'verbose-status': { type: 'boolean' }, hold: { type: 'string' }, scratch: { type: 'string' },
      'crikit-node-arg': { type: 'string', multiple: true },
    },
  });
  const int = (name: string, raw: string | undefined, dflt: number): number => {
    const n = Number(raw ?? dflt);
    if (!Number.isInteger(n) || n < (name === 'hold' || name === 'scratch' ? 0 : 1)) throw new Error(`--${name} must be a positive integer, got ${raw}`);
    return n;
  };
  const logLevel = values['log-level'] ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error'].includes(logLevel)) throw new Error(`--log-level: unknown level ${logLevel}`);
  return {
    pods: int('pods', values.pods, 30),
    concurrent: int('concurrent', values.concurrent, 10),
    rounds: int('rounds', values.rounds, 3),
    cpuProfDir: values['cpu-prof-dir'],
    logLevel: logLevel as Options['logLevel'],
    crikitLog: values['crikit-log'],
    verboseStatus: values['verbose-status'] ?? false,
    hold: int('hold', values.hold, 100),
    scratch: int('scratch', values.scratch, 20),
    crikitNodeArgs: values['crikit-node-arg'] ?? [],
  };
}

/** A kubelet-shaped PodSandboxConfig: pod network namespace, container pid namespace, a cgroup parent, a log dir. */
function podConfig(ps: PodSide, name: string): PartialMessage<cri.PodSandboxConfig> {
  const uid = randomUUID();
  // The kubelet creates the pod's log dir before RunPodSandbox.
  const logDirectory = ps.network.logDir(`${namespace}_${name}_${uid}`);
  mkdirSync(logDirectory, { recursive: true });
  return {
    metadata: { name, namespace, uid, attempt: 0 },
    hostname: name,
    logDirectory,
    labels: { app: name, 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': namespace, 'io.kubernetes.pod.uid': uid },
    annotations: { 'kubernetes.io/config.source': 'api', 'kubernetes.io/config.seen': new Date().toISOString() },
    linux: {
      cgroupParent: `/${cgroupParent}`,
      securityContext: { namespaceOptions: { network: cri.NamespaceMode.POD, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD } },
    },
  };
}

/** Calls `fn` and returns its value and wall milliseconds; a failure names the side, the RPC and the pod. */
async function timed<T>(ps: PodSide, rpc: Rpc, pod: string, fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  ps.signal.throwIfAborted();
  const started = performance.now();
  try {
    const value = await fn();
    return { value, ms: performance.now() - started };
  } catch (err) {
    throw failure(ps, `${rpcName[rpc]} of pod ${pod} failed: ${(err as Error).message}`, err);
  }
}

const rpcName: Record<Rpc, string> = { run: 'RunPodSandbox', status: 'PodSandboxStatus', stop: 'StopPodSandbox', remove: 'RemovePodSandbox' };

function failure(ps: PodSide, message: string, cause?: unknown): Error {
  return new Error(`${ps.name}: ${message}\n--- last ${ps.name} log lines ---\n${ps.side.logTail(25).join('\n')}`, { cause });
}

/** One pod's timed calls. */
type PodTimes = Record<Rpc, number>;

async function runPod(ps: PodSide, name: string): Promise<{ id: string; ms: number }> {
  const config = podConfig(ps, name);
  const { value, ms } = await timed(ps, 'run', name, () => ps.side.client.runtime.runPodSandbox({ config }, { timeoutMs: rpcTimeoutMs }));
  return { id: value.podSandboxId, ms };
}

/** PodSandboxStatus (not verbose, as the kubelet asks, unless --verbose-status), checked: READY, with an IP in the side's subnet. */
async function statusPod(ps: PodSide, id: string, name: string): Promise<number> {
  const { value, ms } = await timed(ps, 'status', name, () => ps.side.client.runtime.podSandboxStatus({ podSandboxId: id, verbose: ps.verboseStatus }, { timeoutMs: rpcTimeoutMs }));
  const state = value.status?.state;
  const ip = value.status?.network?.ip ?? '';
  if (state !== cri.PodSandboxState.SANDBOX_READY) {
    throw failure(ps, `pod ${name} (${id.slice(0, 12)}) is not READY after RunPodSandbox: state ${state === undefined ? 'none' : cri.PodSandboxState[state] ?? state}`);
  }
  if (!ps.network.contains(ip)) {
    throw failure(ps, `pod ${name} (${id.slice(0, 12)}) is READY but its IP "${ip}" is not in ${ps.network.subnet}`);
  }
  return ms;
}

async function stopPod(ps: PodSide, id: string, name: string): Promise<number> {
  return (await timed(ps, 'stop', name, () => ps.side.client.runtime.stopPodSandbox({ podSandboxId: id }, { timeoutMs: rpcTimeoutMs }))).ms;
}

async function removePod(ps: PodSide, id: string, name: string): Promise<number> {
  return (await timed(ps, 'remove', name, () => ps.side.client.runtime.removePodSandbox({ podSandboxId: id }, { timeoutMs: rpcTimeoutMs }))).ms;
}

/** One pod's life, one call after the other. */
async function podLifecycle(ps: PodSide, name: string): Promise<PodTimes> {
  const { id, ms: run } = await runPod(ps, name);
  const status = await statusPod(ps, id, name);
  const stop = await stopPod(ps, id, name);
  const remove = await removePod(ps, id, name);
  return { run, status, stop, remove };
}

/** Like Promise.all, but waits for every promise to settle before it rejects with the first failure. */
async function allSettled<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map(r => (r as PromiseFulfilledResult<T>).value);
}

/** `count` pods at once, phase by phase; the latency of every call. */
async function concurrentRound(ps: PodSide, count: number, round: number): Promise<Record<Rpc, number[]>> {
  const names = Array.from({ length: count }, (_, i) => `bench-c${round}-${i}`);
  const runs = await allSettled(names.map(name => runPod(ps, name)));
  const status = await allSettled(runs.map(({ id }, i) => statusPod(ps, id, names[i]!)));
  const stop = await allSettled(runs.map(({ id }, i) => stopPod(ps, id, names[i]!)));
  const remove = await allSettled(runs.map(({ id }, i) => removePod(ps, id, names[i]!)));
  return { run: runs.map(r => r.ms), status, stop, remove };
}

/** Resident memory of a side's CRI process and of its containerd, in MiB (0 when unreadable). */
interface Resident {
  readonly cri: number;
  readonly containerd: number;
}

function resident(side: BenchSide): Resident {
  const mib = (pid: number) => (readMemory(pid)?.rssKiB ?? 0) / 1024;
  return { cri: mib(side.criPid), containerd: side.containerdPid === side.criPid ? 0 : mib(side.containerdPid) };
}

/** Runs `count` pods, `batch` at a time, each checked READY; reads the side's memory with all of them up; removes them. */
async function holdPods(ps: PodSide, count: number, batch: number): Promise<Resident> {
  const held: { id: string; name: string }[] = [];
  for (let first = 0; first < count; first += batch) {
    const names = Array.from({ length: Math.min(batch, count - first) }, (_, i) => `bench-h-${first + i}`);
    const runs = await allSettled(names.map(name => runPod(ps, name)));
    await allSettled(runs.map(({ id }, i) => statusPod(ps, id, names[i]!)));
    held.push(...runs.map(({ id }, i) => ({ id, name: names[i]! })));
  }
  await new Promise(resolve => setTimeout(resolve, 2_000));
  const memory = resident(ps.side);
  for (let first = 0; first < held.length; first += batch) {
    const some = held.slice(first, first + batch);
    await allSettled(some.map(({ id, name }) => stopPod(ps, id, name).then(() => removePod(ps, id, name))));
  }
  return memory;
}

/** Records crikitd's memory against containerd's CRI, and crikitd with its containerd against containerd with its CRI plugin. */
function recordMemory(label: string, crikit: Resident, containerd: Resident): void {
  record([
    { bench: 'pods', operation: `crikitd RSS, ${label}`, unit: 'MiB', crikit: reading(crikit.cri), containerd: reading(containerd.cri) },
    { bench: 'pods', operation: `crikitd + its containerd RSS, ${label}`, unit: 'MiB', crikit: reading(crikit.cri + crikit.containerd), containerd: reading(containerd.cri) },
  ]);
}

function memoryLine(label: string, crikit: Resident, containerd: Resident): string {
  return `RSS ${label}: crikitd ${crikit.cri.toFixed(1)} MiB + its containerd ${crikit.containerd.toFixed(1)} MiB; containerd with its CRI ${containerd.cri.toFixed(1)} MiB`;
}

/** Fails unless the side lists no pod and host-local holds no IP: a scenario must leave nothing. */
async function assertNoPods(ps: PodSide, after: string): Promise<void> {
  const { items } = await ps.side.client.runtime.listPodSandbox({}, { timeoutMs: rpcTimeoutMs });
  if (items.length > 0) throw failure(ps, `${items.length} pod(s) still listed after ${after}: ${items.map(i => i.metadata?.name).join(', ')}`);
  const ips = ps.network.allocatedIps();
  if (ips.length > 0) throw failure(ps, `host-local still holds ${ips.join(', ')} after ${after}`);
}

/** Stops and removes every pod the side lists (the teardown of a failed run); the first failure is thrown after all were tried. */
async function removeAllPods(side: BenchSide): Promise<void> {
  const { items } = await side.client.runtime.listPodSandbox({}, { timeoutMs: 10_000 });
  const failures: unknown[] = [];
  for (const { id } of items) {
    await side.client.runtime.stopPodSandbox({ podSandboxId: id }, { timeoutMs: 30_000 })
      .then(() => side.client.runtime.removePodSandbox({ podSandboxId: id }, { timeoutMs: 30_000 }))
      .catch(err => failures.push(err));
  }
  if (failures.length > 0) throw failures[0];
}

function emptySamples(): Samples {
  const rec = (): Record<Rpc, number[]> => ({ run: [], status: [], stop: [], remove: [] });
  return { sequential: rec(), concurrent: rec() };
}

function resultTable(sides: Record<SideName, PodSide>): string {
  const rows = scenarios.flatMap(scenario => rpcs.map(rpc =>
    [`${scenario} ${rpc}`, sides.crikit.samples[scenario][rpc], sides.containerd.samples[scenario][rpc]] as const));
  recordLatency('pods', scenarios.flatMap(scenario => rpcs.map(rpc =>
    [`${rpcName[rpc]} (${scenario})`, sides.crikit.samples[scenario][rpc], sides.containerd.samples[scenario][rpc]] as const)));
  return latencyTable(rows);
}

const scratchOperation = 'pod + container from scratch, then removed';

/**
 * The from-scratch scenario: pulls `image` on both sides (untimed), then runs `count` pods with a container on
 * each, in blocks of 10, crikit's block first, then alternating; records and returns the samples.
 */
async function fromScratch(
  sides: Record<SideName, PodSide>, count: number, image: string, say: (line: string) => void, elapsed: () => string,
): Promise<Record<SideName, number[]>> {
  const targets = {} as Record<SideName, ScratchTarget>;
  for (const name of sideNames) {
    const ps = sides[name];
    const { imageRef } = await ps.side.client.image.pullImage({ image: { image } }, { timeoutMs: rpcTimeoutMs })
      .catch(err => { throw failure(ps, `PullImage of ${image} failed: ${(err as Error).message}`, err); });
    targets[name] = { side: ps.side, podConfig: pod => podConfig(ps, pod), imageRef, imageName: image, contains: ip => ps.network.contains(ip) };
    // Warm-up: the first container's snapshot unpack and the runtime's first start are not what is measured.
    await podFromScratch(targets[name], 'bench-x-warm').catch(err => { throw failure(ps, (err as Error).message, err); });
  }
  const samples: Record<SideName, number[]> = { crikit: [], containerd: [] };
  for (let first = 0, block = 0; first < count; first += sequentialBlock, block++) {
    const last = Math.min(count, first + sequentialBlock);
    for (const name of block % 2 === 0 ? sideNames : [...sideNames].reverse()) {
      const ps = sides[name];
      for (let i = first; i < last; i++) {
        ps.signal.throwIfAborted();
        samples[name].push(await podFromScratch(targets[name], `bench-x-${i}`).catch(err => { throw failure(ps, (err as Error).message, err); }));
      }
      await assertNoPods(ps, `pods with a container from scratch ${first + 1}-${last}`);
      say(`scratch    ${name.padEnd(10)} pods ${first + 1}-${last} of ${count} (${elapsed()})`);
    }
  }
  return samples;
}

/** Records the from-scratch samples (after the pod rows, so the table keeps them together) and returns their table. */
function scratchTable(samples: Record<SideName, number[]>): string {
  record([{ bench: 'pods', operation: scratchOperation, unit: 'ms', crikit: figures(samples.crikit), containerd: figures(samples.containerd) }]);
  return latencyTable([[scratchOperation, samples.crikit, samples.containerd]]);
}

async function main(signal: AbortSignal): Promise<void> {
  const opts = options();
  const { say, load, elapsed } = beginBenchmark('bench:pods', 'netns, mounts, cgroups, bridges');
  const registry = await startBenchRegistry();
  const sandboxImage = await registry.push('bench/pause', await pauseImage(), '3.10');
  const busybox = opts.scratch > 0 ? await registry.push('bench/busybox', await busyboxImage(), '1') : undefined;
  say(`pushed ${sandboxImage}${busybox ? ` and ${busybox}` : ''}`);

  // What an earlier run killed with SIGKILL may have left under the cgroup parent (its dirs are swept already).
  killPodLeftovers(cgroupParent, [], new Set());
  removeCgroupParent(cgroupParent);
  // Registered before the sides, so it runs after they stopped (teardown goes last first).
  cleanCgroupParentAtTeardown(cgroupParent);
  const networks: Record<SideName, BenchNetwork> = {
    crikit: benchNetwork('crikit-bench', 'ckb1', 201),
    containerd: benchNetwork('containerd-bench', 'ckb2', 202),
  };
  if (opts.cpuProfDir) mkdirSync(opts.cpuProfDir, { recursive: true });

  // After both sides stopped (registered before them, so it runs after): whatever pod a side could not remove,
  // or that a call still in flight at an interrupt created after its side's pods were removed.
  const netnsBefore = netnsPins();
  const sideDirs: string[] = [];
  const killLeftovers = (): void => killPodLeftovers(cgroupParent, sideDirs, netnsBefore);
  teardown.add('kill leftover pod processes', async () => killLeftovers(), killLeftovers);
  const start = async (name: SideName): Promise<PodSide> => {
    const network = networks[name];
    const side = name === 'crikit'
      ? await startCrikitSide({
        registryHostsDir: registry.hostsDir, cniConfDir: network.confDir, logLevel: opts.logLevel,
        nodeArgs: [...(opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : []), ...opts.crikitNodeArgs],
        config: {
          sandbox: { sandboxImage },
          runtimes: { restrictOomScoreAdj: true },
          cni: { binDirs: ['/usr/lib/cni'] },
        },
      })
      : await startContainerdCriSide({ registryHostsDir: registry.hostsDir, cniConfDir: network.confDir, cniBinDir: '/usr/lib/cni', sandboxImage });
    // Runs before the side stops: a failed run must not leave pods (pause processes, shims, netns) behind.
    sideDirs.push(side.dir);
    const podsRemoved = teardown.add(`remove pods on ${name}`, () => removeAllPods(side), () => {});
    return { name, side, network, samples: emptySamples(), podsRemoved, signal, verboseStatus: opts.verboseStatus };
  };
  const sides = {} as Record<SideName, PodSide>;
  for (const name of sideNames) {
    signal.throwIfAborted();
    sides[name] = await start(name);
  }
  say(`both sides up (${elapsed()})`);
  await new Promise(resolve => setTimeout(resolve, 2_000));
  const idle = { crikit: resident(sides.crikit.side), containerd: resident(sides.containerd.side) };
  recordMemory('idle', idle.crikit, idle.containerd);

  for (const name of sideNames) {
    const ps = sides[name];
    const t = performance.now();
    const pulled = await ps.side.client.image.pullImage({ image: { image: sandboxImage } }, { timeoutMs: rpcTimeoutMs })
      .catch(err => { throw failure(ps, `PullImage of ${sandboxImage} failed: ${(err as Error).message}`, err); });
    say(`${name.padEnd(10)} pulled the pause image (${pulled.imageRef.slice(0, 19)}) in ${(performance.now() - t).toFixed(0)} ms`);
    for (let i = 0; i < warmUpPods; i++) await podLifecycle(ps, `bench-warm-${i}`);
    await assertNoPods(ps, 'the warm-up');
  }
  say(`warm-up done (${elapsed()})`);

  // Sequential, in blocks of up to 10 pods: crikit first, then alternating block by block, so that load
  // which comes and goes on the machine does not land on one side only.
  const blocks = Math.ceil(opts.pods / sequentialBlock);
  for (let block = 0; block < blocks; block++) {
    const order = block % 2 === 0 ? sideNames : [...sideNames].reverse();
    const first = block * sequentialBlock;
    const last = Math.min(opts.pods, first + sequentialBlock);
    for (const name of order) {
      const ps = sides[name];
      for (let i = first; i < last; i++) {
        signal.throwIfAborted();
        const times = await podLifecycle(ps, `bench-s-${i}`);
        for (const rpc of rpcs) ps.samples.sequential[rpc].push(times[rpc]);
      }
      await assertNoPods(ps, `sequential pods ${first + 1}-${last}`);
      say(`sequential ${name.padEnd(10)} pods ${first + 1}-${last} of ${opts.pods} (${elapsed()})`);
    }
  }

  const scratch = opts.scratch > 0 ? await fromScratch(sides, opts.scratch, busybox!, say, elapsed) : undefined;

  // Concurrent: containerd first, then alternating round by round.
  for (let round = 0; round < opts.rounds; round++) {
    const order = round % 2 === 0 ? [...sideNames].reverse() : sideNames;
    for (const name of order) {
      signal.throwIfAborted();
      const ps = sides[name];
      const t = performance.now();
      const times = await concurrentRound(ps, opts.concurrent, round);
      for (const rpc of rpcs) ps.samples.concurrent[rpc].push(...times[rpc]);
      await assertNoPods(ps, `concurrent round ${round + 1}`);
      say(`concurrent ${name.padEnd(10)} round ${round + 1}/${opts.rounds}: ${opts.concurrent} pods in ${((performance.now() - t) / 1000).toFixed(2)} s (${elapsed()})`);
    }
  }

  const holding = {} as Record<SideName, Resident>;
  for (const name of opts.hold > 0 ? sideNames : []) {
    signal.throwIfAborted();
    const t = performance.now();
    holding[name] = await holdPods(sides[name], opts.hold, opts.concurrent);
    await assertNoPods(sides[name], `holding ${opts.hold} pods`);
    say(`hold       ${name.padEnd(10)} ${opts.hold} pods up, memory read, removed in ${((performance.now() - t) / 1000).toFixed(1)} s (${elapsed()})`);
  }
  if (opts.hold > 0) recordMemory(`${opts.hold} pods`, holding.crikit, holding.containerd);

  const memory = {} as Record<SideName, SideMemory>;
  if (opts.crikitLog) writeFileSync(opts.crikitLog, `${sides.crikit.side.logTail(2_000).join('\n')}\n`);
  for (const name of sideNames) {
    sides[name].podsRemoved();
    memory[name] = await sides[name].side.stop();
  }
  const out = [
    `pods: ${opts.pods} sequential, ${opts.concurrent} concurrent${opts.rounds > 1 ? ` x ${opts.rounds} rounds` : ''}`
      + `${scratch ? `, ${opts.scratch} pods with a container from scratch` : ''} (ms)`,
    resultTable(sides),
    ...(scratch ? [scratchTable(scratch)] : []),
    memoryLine('idle', idle.crikit, idle.containerd),
    ...(opts.hold > 0 ? [memoryLine(`with ${opts.hold} pods`, holding.crikit, holding.containerd)] : []),
    ...peakMemoryLines(memory),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  say(`load average ${load()}; ${elapsed()}`);
  if (opts.cpuProfDir) say(`crikitd CPU profile in ${opts.cpuProfDir} (written when crikitd exits)`);
}

// Set-up takes ~10 s and the scenarios ~3 min per side on 2 cores (holding 100 pods took almost 4 min on a
// loaded machine); the deadline only catches a hang.
runBenchmark('bench:pods', main, { timeoutMs: 30 * 60_000 });
