// `pnpm bench:containers`: CreateContainer, StartContainer, ContainerStatus, ExecSync, StopContainer,
// RemoveContainer and ListContainers latency through crikit's CRI and through containerd's own CRI plugin, in
// the same run, with the same busybox and pause images from a local registry and one pod per side on real CNI;
// prints p50, p90 and p99 per RPC, the ratios crikit/containerd and peak memory.
//
//   node test/dist/bench/containers.js [--containers N] [--listed N] [--list-calls N]
//                                      [--cpu-prof-dir DIR] [--log-level LEVEL] [--crikit-log FILE]
//                                      [--crikit-node-arg ARG]... [--verbose-status]                  (needs root)
//
// `--crikit-node-arg` passes a node flag to crikitd (repeatable), e.g. `--crikit-node-arg=--import=/tmp/trace.mjs`
// to preload a tracer when profiling. `--verbose-status` asks ContainerStatus for its verbose `info`, as
// `crictl inspect` and independent CRI benchmark clients do.
//
// Scenarios, each on both sides, in one pod per side (started before timing, removed at the end):
//  - lifecycle: N containers (30) one at a time, each create → start → status → exec → stop → remove, as the
//    kubelet drives one container's life, in blocks of 10 per side: crikit's block first, then containerd's, then
//    the other way round, and so on. The container runs `trap "exit 0" TERM; sleep 1000 & wait`: its shell is pid 1
//    of the container's own pid namespace, where a signal without a handler is ignored (so a plain
//    `exec sleep 1000` would sit out the whole 10 s stop timeout); with the trap it exits 0 at once on SIGTERM.
//    ExecSync runs `/bin/echo hi` (timeout 10 s); StopContainer has a timeout of 10 s.
//  - list: L containers (100) created AND started (running `exec sleep 1000`) in the pod of each side, then
//    ListContainers with no filter (the kubelet's PLEG relist) and with the pod-uid label selector (the kubelet's
//    per-pod lookup), M calls (30) each, in blocks of 10 per side, the side going first alternating.
// Every result is checked (a started container is RUNNING, exec prints `hi` and exits 0, a stopped one is EXITED
// with code 0, a removed one is no longer listed, a list holds exactly the L containers); anything else aborts
// with the side's last log lines. Nothing here asserts on time.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { cri, type PartialMessage } from '@crikit/api';
import { busyboxImage, pauseImage } from '@crikit/testkit';
import { startBenchRegistry } from './bench-registry.js';
import { recordLatency } from './bench-record.js';
import { latencyTable } from './bench-stats.js';
import { beginBenchmark, peakMemoryLines, startContainerdCriSide, startCrikitSide, type BenchSide, type SideMemory, type SideName } from './harness.js';
import { benchNetwork, cleanCgroupParentAtTeardown, killPodLeftovers, netnsPins, removeCgroupParent, type BenchNetwork } from './pod-network.js';
import { runBenchmark, teardown } from './run-benchmark.js';

const lifecycleRpcs = ['create', 'start', 'status', 'exec', 'stop', 'remove'] as const;
const listRpcs = ['list', 'listByPod'] as const;
const rpcs = [...lifecycleRpcs, ...listRpcs] as const;
type Rpc = (typeof rpcs)[number];
type Samples = Record<Rpc, number[]>;

const rpcName: Record<Rpc, string> = {
  create: 'CreateContainer', start: 'StartContainer', status: 'ContainerStatus', exec: 'ExecSync',
  stop: 'StopContainer', remove: 'RemoveContainer', list: 'ListContainers', listByPod: 'ListContainers (pod label)',
};

/** Own cgroup parent, bridges and subnets, so this never meets a bench:pods run on the same machine. */
const cgroupParent = 'crikit-bench-ctr';
const namespace = 'crikit-bench';
const warmUpContainers = 2;
/** Timed calls go in blocks of this many per side, the side going first alternating. */
const block = 10;
const rpcTimeoutMs = 60_000;
const stopTimeoutSeconds = 10n;
const execTimeoutSeconds = 10n;
/** How many of the L list containers are created and started at once (set-up, not timed). */
const setupConcurrency = 4;
const sideNames: readonly SideName[] = ['crikit', 'containerd'];
/** Exits 0 on SIGTERM although it is pid 1 of its pid namespace (see the header). */
const lifecycleScript = 'trap "exit 0" TERM; sleep 1000 & wait';
/** The kubelet's default masked and read-only paths (pkg/securitycontext). */
const maskedPaths = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware'];
const readonlyPaths = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

interface Options {
  readonly containers: number;
  readonly listed: number;
  readonly listCalls: number;
  readonly cpuProfDir: string | undefined;
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  /** Where to write crikitd's last log lines (up to 2,000) at the end. */
  readonly crikitLog: string | undefined;
  /** Extra node flags for crikitd. */
  readonly crikitNodeArgs: readonly string[];
  /** Whether ContainerStatus asks for the verbose `info`. */
  readonly verboseStatus: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      containers: { type: 'string' }, listed: { type: 'string' }, 'list-calls': { type: 'string' },
      'cpu-prof-dir': { type: 'string' }, 'log-level': { type: 'string' }, 'crikit-log': { type: 'string' },
      'crikit-node-arg': { type: 'string', multiple: true }, 'verbose-status': { type: 'boolean' },
    },
  });
  const int = (name: string, raw: string | undefined, dflt: number): number => {
    const n = Number(raw ?? dflt);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${raw}`);
    return n;
  };
  const logLevel = values['log-level'] ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error'].includes(logLevel)) throw new Error(`--log-level: unknown level ${logLevel}`);
  return {
    containers: int('containers', values.containers, 30),
    listed: int('listed', values.listed, 100),
    listCalls: int('list-calls', values['list-calls'], 30),
    cpuProfDir: values['cpu-prof-dir'],
    logLevel: logLevel as Options['logLevel'],
    crikitLog: values['crikit-log'],
    crikitNodeArgs: values['crikit-node-arg'] ?? [],
    verboseStatus: values['verbose-status'] ?? false,
  };
}

/** The pod a side's containers run in. */
interface BenchPod {
  readonly id: string;
  readonly name: string;
  readonly uid: string;
  readonly config: PartialMessage<cri.PodSandboxConfig>;
  /** The pod's /etc/hosts, which the kubelet bind-mounts into every container. */
  readonly hostsFile: string;
}

/** A side with its network, pod, image and what was timed on it. */
interface ContainerSide {
  readonly name: SideName;
  readonly side: BenchSide;
  readonly network: BenchNetwork;
  readonly samples: Samples;
  /** The busybox image's id as PullImage returned it (the kubelet creates containers with the image ref it pulled). */
  imageId: string;
  /** The busybox reference the pull asked for (the kubelet sends it as userSpecifiedImage). */
  imageName: string;
  pod: BenchPod | undefined;
  /** The benchmark's deadline or interrupt: no new call starts once it fired. */
  readonly signal: AbortSignal;
}

/** A kubelet-shaped PodSandboxConfig: pod network namespace, container pid namespace, a cgroup parent, a log dir. */
function podConfig(network: BenchNetwork, name: string, uid: string): PartialMessage<cri.PodSandboxConfig> {
  // The kubelet creates the pod's log dir before RunPodSandbox.
  const logDirectory = network.logDir(`${namespace}_${name}_${uid}`);
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

/**
 * A kubelet-shaped ContainerConfig (what kuberuntime's generateContainerConfig sends for a BestEffort pod):
 * metadata, the pulled image by id, command, service env, the /etc/hosts and termination-log bind mounts, the
 * log path `<name>/0.log` under the pod's log dir (created first, as the kubelet does), the kubelet's labels
 * and annotations, BestEffort resources and the default masked and read-only paths.
 */
function containerConfig(cs: ContainerSide, name: string, script: string): PartialMessage<cri.ContainerConfig> {
  const pod = cs.pod!;
  mkdirSync(path.join(pod.config.logDirectory!, name), { recursive: true });
  const terminationDir = path.join(cs.network.dir, 'pods', pod.uid, 'containers', name);
  mkdirSync(terminationDir, { recursive: true });
  const terminationLog = path.join(terminationDir, randomUUID().slice(0, 8));
  writeFileSync(terminationLog, '');
  const env = (key: string, value: string): PartialMessage<cri.KeyValue> => ({ key, value: Buffer.from(value) });
  return {
    metadata: { name, attempt: 0 },
    image: { image: cs.imageId, userSpecifiedImage: cs.imageName },
    command: ['/bin/sh', '-c', script],
    envs: [
      env('KUBERNETES_SERVICE_HOST', '10.96.0.1'), env('KUBERNETES_SERVICE_PORT', '443'),
      env('KUBERNETES_PORT', 'tcp://10.96.0.1:443'), env('KUBERNETES_PORT_443_TCP_ADDR', '10.96.0.1'),
    ],
    mounts: [
      { containerPath: '/etc/hosts', hostPath: pod.hostsFile },
      { containerPath: '/dev/termination-log', hostPath: terminationLog },
    ],
    logPath: path.join(name, '0.log'),
    labels: {
      'io.kubernetes.container.name': name, 'io.kubernetes.pod.name': pod.name,
      'io.kubernetes.pod.namespace': namespace, 'io.kubernetes.pod.uid': pod.uid,
    },
    annotations: {
      'io.kubernetes.container.hash': '5e2b5b1f', 'io.kubernetes.container.restartCount': '0',
      'io.kubernetes.container.terminationMessagePath': '/dev/termination-log',
      'io.kubernetes.container.terminationMessagePolicy': 'File', 'io.kubernetes.pod.terminationGracePeriod': '30',
    },
    linux: {
      resources: { cpuPeriod: 100_000n, cpuQuota: 0n, cpuShares: 2n, memoryLimitInBytes: 0n, oomScoreAdj: 1000n },
      securityContext: {
        namespaceOptions: { network: cri.NamespaceMode.POD, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD },
        maskedPaths, readonlyPaths,
      },
    },
  };
}

function failure(cs: ContainerSide, message: string, cause?: unknown): Error {
  return new Error(`${cs.name}: ${message}\n--- last ${cs.name} log lines ---\n${cs.side.logTail(25).join('\n')}`, { cause });
}

/** Calls `fn` and returns its value and wall milliseconds; a failure names the side, the RPC and the container. */
async function timed<T>(cs: ContainerSide, rpc: Rpc, what: string, fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  cs.signal.throwIfAborted();
  const started = performance.now();
  try {
    const value = await fn();
    return { value, ms: performance.now() - started };
  } catch (err) {
    throw failure(cs, `${rpcName[rpc]} of ${what} failed: ${(err as Error).message}`, err);
  }
}

const stateName = (state: cri.ContainerState | undefined): string => (state === undefined ? 'none' : cri.ContainerState[state] ?? String(state));

/** One container's timed calls. */
type LifecycleTimes = Record<(typeof lifecycleRpcs)[number], number>;

/** create → start → status (RUNNING; `verbose` asks for the info too) → exec (`hi`) → stop (EXITED 0) → remove, every step checked. */
async function containerLifecycle(cs: ContainerSide, name: string, verbose: boolean): Promise<LifecycleTimes> {
  const rt = cs.side.client.runtime;
  const opts = { timeoutMs: rpcTimeoutMs };
  const pod = cs.pod!;
  const config = containerConfig(cs, name, lifecycleScript);
  const create = await timed(cs, 'create', name, () => rt.createContainer({ podSandboxId: pod.id, config, sandboxConfig: pod.config }, opts));
  const id = create.value.containerId;
  const what = `${name} (${id.slice(0, 12)})`;
  const start = await timed(cs, 'start', what, () => rt.startContainer({ containerId: id }, opts));
  const status = await timed(cs, 'status', what, () => rt.containerStatus({ containerId: id, verbose }, opts));
  const running = status.value.status;
  if (running?.state !== cri.ContainerState.CONTAINER_RUNNING) {
    throw failure(cs, `container ${what} is not RUNNING after StartContainer: state ${stateName(running?.state)}, exit code ${running?.exitCode}, reason "${running?.reason}", message "${running?.message}"`);
  }
  const exec = await timed(cs, 'exec', what, () => rt.execSync({ containerId: id, cmd: ['/bin/echo', 'hi'], timeout: execTimeoutSeconds }, opts));
  const { stdout, stderr, exitCode } = exec.value;
  if (stdout.toString() !== 'hi\n' || exitCode !== 0) {
    throw failure(cs, `ExecSync of /bin/echo hi in ${what} gave exit code ${exitCode}, stdout ${JSON.stringify(stdout.toString())}, stderr ${JSON.stringify(stderr.toString())}`);
  }
  const stop = await timed(cs, 'stop', what, () => rt.stopContainer({ containerId: id, timeout: stopTimeoutSeconds }, opts));
  // Not timed: only checks that the stop took, by SIGTERM (exit 0; SIGKILL after the timeout would give 137).
  const stopped = (await timed(cs, 'status', what, () => rt.containerStatus({ containerId: id }, opts))).value.status;
  if (stopped?.state !== cri.ContainerState.CONTAINER_EXITED || stopped.exitCode !== 0) {
    throw failure(cs, `container ${what} is not EXITED with code 0 after StopContainer (${stop.ms.toFixed(0)} ms): state ${stateName(stopped?.state)}, exit code ${stopped?.exitCode}, reason "${stopped?.reason}"`);
  }
  const remove = await timed(cs, 'remove', what, () => rt.removeContainer({ containerId: id }, opts));
  return { create: create.ms, start: start.ms, status: status.ms, exec: exec.ms, stop: stop.ms, remove: remove.ms };
}

/** Fails unless the side lists exactly `count` containers (in its one pod); returns them. */
async function assertContainers(cs: ContainerSide, count: number, after: string): Promise<cri.Container[]> {
  const { containers } = await cs.side.client.runtime.listContainers({}, { timeoutMs: rpcTimeoutMs });
  if (containers.length !== count) {
    throw failure(cs, `${containers.length} container(s) listed after ${after}, expected ${count}: ${containers.slice(0, 10).map(c => `${c.metadata?.name} ${stateName(c.state)}`).join(', ')}`);
  }
  return containers;
}

/** Runs `fn` on every item, at most `limit` at once; waits for all before it rejects with the first failure. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && failures.length === 0) {
      const item = items[next++]!;
      await fn(item).catch(err => { failures.push(err); });
    }
  }));
  if (failures.length > 0) throw failures[0];
}

/** Creates and starts `count` `exec sleep 1000` containers in the side's pod (not timed); checks they run. */
async function startListed(cs: ContainerSide, count: number): Promise<void> {
  const rt = cs.side.client.runtime;
  const pod = cs.pod!;
  const names = Array.from({ length: count }, (_, i) => `listed-${i}`);
  await pool(names, setupConcurrency, async name => {
    cs.signal.throwIfAborted();
    const config = containerConfig(cs, name, 'exec sleep 1000');
    const { containerId } = await rt.createContainer({ podSandboxId: pod.id, config, sandboxConfig: pod.config }, { timeoutMs: rpcTimeoutMs })
      .catch(err => { throw failure(cs, `CreateContainer of ${name} failed: ${(err as Error).message}`, err); });
    await rt.startContainer({ containerId }, { timeoutMs: rpcTimeoutMs })
      .catch(err => { throw failure(cs, `StartContainer of ${name} failed: ${(err as Error).message}`, err); });
  });
  const listed = await assertContainers(cs, count, `starting ${count} containers`);
  const notRunning = listed.filter(c => c.state !== cri.ContainerState.CONTAINER_RUNNING);
  if (notRunning.length > 0) throw failure(cs, `${notRunning.length} of the ${count} containers are not RUNNING: ${notRunning.slice(0, 5).map(c => `${c.metadata?.name} ${stateName(c.state)}`).join(', ')}`);
}

/** One ListContainers of each kind, checked: all `count` containers, all RUNNING. */
async function timedLists(cs: ContainerSide, count: number): Promise<Record<(typeof listRpcs)[number], number>> {
  const rt = cs.side.client.runtime;
  const opts = { timeoutMs: rpcTimeoutMs };
  const check = (rpc: Rpc, containers: readonly cri.Container[]): void => {
    const running = containers.filter(c => c.state === cri.ContainerState.CONTAINER_RUNNING).length;
    if (containers.length !== count || running !== count) {
      throw failure(cs, `${rpcName[rpc]} gave ${containers.length} containers (${running} RUNNING), expected ${count} RUNNING`);
    }
  };
  const all = await timed(cs, 'list', 'all containers', () => rt.listContainers({}, opts));
  check('list', all.value.containers);
  const byPod = await timed(cs, 'listByPod', `the containers of pod ${cs.pod!.name}`,
    () => rt.listContainers({ filter: { labelSelector: { 'io.kubernetes.pod.uid': cs.pod!.uid } } }, opts));
  check('listByPod', byPod.value.containers);
  return { list: all.ms, listByPod: byPod.ms };
}

/**
 * Removes every container, then stops and removes every pod the side lists. A pass that fails (a call still in
 * flight at an interrupt may hold a container "in removing state") is retried after a second, up to 3 passes;
 * then the first failure of the last pass is thrown.
 */
async function removeEverything(side: BenchSide): Promise<void> {
  for (let pass = 1; ; pass++) {
    try {
      await removeEverythingOnce(side);
      return;
    } catch (err) {
      if (pass >= 3) throw err;
      await new Promise(resolve => setTimeout(resolve, 1_000));
    }
  }
}

async function removeEverythingOnce(side: BenchSide): Promise<void> {
  const failures: unknown[] = [];
  const { containers } = await side.client.runtime.listContainers({}, { timeoutMs: 10_000 });
  await pool(containers, setupConcurrency, async ({ id }) => {
    await side.client.runtime.removeContainer({ containerId: id }, { timeoutMs: 30_000 }).catch(err => { failures.push(err); });
  });
  const { items } = await side.client.runtime.listPodSandbox({}, { timeoutMs: 10_000 });
  for (const { id } of items) {
    await side.client.runtime.stopPodSandbox({ podSandboxId: id }, { timeoutMs: 30_000 })
      .then(() => side.client.runtime.removePodSandbox({ podSandboxId: id }, { timeoutMs: 30_000 }))
      .catch(err => failures.push(err));
  }
  if (failures.length > 0) throw failures[0];
}

/** Runs the side's pod and checks it: READY, with an IP in the side's subnet. */
async function runBenchPod(cs: ContainerSide): Promise<BenchPod> {
  const name = `bench-ctr-${cs.name}`;
  const uid = randomUUID();
  const config = podConfig(cs.network, name, uid);
  const rt = cs.side.client.runtime;
  const { podSandboxId: id } = await rt.runPodSandbox({ config }, { timeoutMs: rpcTimeoutMs })
    .catch(err => { throw failure(cs, `RunPodSandbox of ${name} failed: ${(err as Error).message}`, err); });
  const status = (await rt.podSandboxStatus({ podSandboxId: id }, { timeoutMs: rpcTimeoutMs })).status;
  const ip = status?.network?.ip ?? '';
  if (status?.state !== cri.PodSandboxState.SANDBOX_READY || !cs.network.contains(ip)) {
    throw failure(cs, `pod ${name} is not READY with an IP in ${cs.network.subnet}: state ${status?.state}, IP "${ip}"`);
  }
  const hostsFile = path.join(cs.network.dir, 'pods', uid, 'etc-hosts');
  mkdirSync(path.dirname(hostsFile), { recursive: true });
  writeFileSync(hostsFile, `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${ip}\t${name}\n`);
  return { id, name, uid, config, hostsFile };
}

function emptySamples(): Samples {
  return Object.fromEntries(rpcs.map(rpc => [rpc, []])) as unknown as Samples;
}

function resultTable(sides: Record<SideName, ContainerSide>, listed: number): string {
  const rows = rpcs.map(rpc => {
    const label = rpc === 'list' ? `${rpcName.list} (${listed} running)` : rpc === 'listByPod' ? `${rpcName.list} (${listed}, pod label)` : rpcName[rpc];
    return [label, sides.crikit.samples[rpc], sides.containerd.samples[rpc]] as const;
  });
  recordLatency('containers', rows);
  return latencyTable(rows);
}

async function main(signal: AbortSignal): Promise<void> {
  const opts = options();
  const { say, load, elapsed } = beginBenchmark('bench:containers', 'netns, mounts, cgroups, bridges');
  const registry = await startBenchRegistry();
  const sandboxImage = await registry.push('bench/pause', await pauseImage(), '3.10');
  const busybox = await registry.push('bench/busybox', await busyboxImage(), '1');
  say(`pushed ${sandboxImage} and ${busybox}`);

  // What an earlier run killed with SIGKILL may have left under the cgroup parent (its dirs are swept already).
  killPodLeftovers(cgroupParent, [], new Set());
  removeCgroupParent(cgroupParent);
  // Registered before the sides, so it runs after they stopped (teardown goes last first).
  cleanCgroupParentAtTeardown(cgroupParent);
  const networks: Record<SideName, BenchNetwork> = {
    crikit: benchNetwork('crikit-bench-ctr', 'ckb3', 203),
    containerd: benchNetwork('containerd-bench-ctr', 'ckb4', 204),
  };
  if (opts.cpuProfDir) mkdirSync(opts.cpuProfDir, { recursive: true });

  // After both sides stopped: whatever container or pod a side could not remove.
  const netnsBefore = netnsPins();
  const sideDirs: string[] = [];
  const killLeftovers = (): void => killPodLeftovers(cgroupParent, sideDirs, netnsBefore);
  teardown.add('kill leftover pod and container processes', async () => killLeftovers(), killLeftovers);
  const removed: Partial<Record<SideName, () => void>> = {};
  const start = async (name: SideName): Promise<ContainerSide> => {
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
      // containerd's CRI plugin config (containerd-toml.ts) always has restrict_oom_score_adj = true.
      : await startContainerdCriSide({ registryHostsDir: registry.hostsDir, cniConfDir: network.confDir, cniBinDir: '/usr/lib/cni', sandboxImage });
    sideDirs.push(side.dir);
    // Runs before the side stops: a failed run must not leave containers or pods behind.
    removed[name] = teardown.add(`remove containers and pods on ${name}`, () => removeEverything(side), () => {});
    return { name, side, network, samples: emptySamples(), imageId: '', imageName: '', pod: undefined, signal };
  };
  const sides = {} as Record<SideName, ContainerSide>;
  for (const name of sideNames) {
    signal.throwIfAborted();
    sides[name] = await start(name);
  }
  say(`both sides up (${elapsed()})`);

  for (const name of sideNames) {
    const cs = sides[name];
    const t = performance.now();
    for (const image of [sandboxImage, busybox]) {
      const { imageRef } = await cs.side.client.image.pullImage({ image: { image } }, { timeoutMs: rpcTimeoutMs })
        .catch(err => { throw failure(cs, `PullImage of ${image} failed: ${(err as Error).message}`, err); });
      if (image === busybox) { cs.imageId = imageRef; cs.imageName = image; }
    }
    cs.pod = await runBenchPod(cs);
    for (let i = 0; i < warmUpContainers; i++) await containerLifecycle(cs, `warm-${i}`, opts.verboseStatus);
    await assertContainers(cs, 0, 'the warm-up');
    say(`${name.padEnd(10)} pulled both images, ran pod ${cs.pod.id.slice(0, 12)} and ${warmUpContainers} warm-up containers in ${(performance.now() - t).toFixed(0)} ms`);
  }
  if (sides.crikit.imageId !== sides.containerd.imageId) {
    throw new Error(`the sides pulled different busybox images: crikit ${sides.crikit.imageId}, containerd ${sides.containerd.imageId}`);
  }
  say(`warm-up done (${elapsed()})`);

  // Lifecycle, in blocks of up to 10 containers: crikit first, then alternating block by block, so that load
  // which comes and goes on the machine does not land on one side only.
  const blocks = Math.ceil(opts.containers / block);
  for (let b = 0; b < blocks; b++) {
    const order = b % 2 === 0 ? sideNames : [...sideNames].reverse();
    const first = b * block;
    const last = Math.min(opts.containers, first + block);
    for (const name of order) {
      const cs = sides[name];
      for (let i = first; i < last; i++) {
        signal.throwIfAborted();
        const times = await containerLifecycle(cs, `bench-${i}`, opts.verboseStatus);
        for (const rpc of lifecycleRpcs) cs.samples[rpc].push(times[rpc]);
      }
      await assertContainers(cs, 0, `containers ${first + 1}-${last}`);
      say(`lifecycle ${name.padEnd(10)} containers ${first + 1}-${last} of ${opts.containers} (${elapsed()})`);
    }
  }

  // List: both sides hold L running containers the whole time; the calls alternate in blocks.
  for (const name of sideNames) {
    const t = performance.now();
    await startListed(sides[name], opts.listed);
    say(`list      ${name.padEnd(10)} ${opts.listed} containers created and started in ${((performance.now() - t) / 1000).toFixed(1)} s (${elapsed()})`);
  }
  const listBlocks = Math.ceil(opts.listCalls / block);
  for (let b = 0; b < listBlocks; b++) {
    const order = b % 2 === 0 ? [...sideNames].reverse() : sideNames;
    for (const name of order) {
      const cs = sides[name];
      for (let i = b * block; i < Math.min(opts.listCalls, (b + 1) * block); i++) {
        const times = await timedLists(cs, opts.listed);
        for (const rpc of listRpcs) cs.samples[rpc].push(times[rpc]);
      }
    }
  }
  say(`list calls done (${elapsed()})`);

  // Remove the listed containers and the pod, checked, before the sides stop.
  for (const name of sideNames) {
    const cs = sides[name];
    const t = performance.now();
    await removeEverything(cs.side).catch(err => { throw failure(cs, `removing containers and pod failed: ${(err as Error).message}`, err); });
    await assertContainers(cs, 0, 'removing everything');
    const { items } = await cs.side.client.runtime.listPodSandbox({}, { timeoutMs: rpcTimeoutMs });
    if (items.length > 0) throw failure(cs, `${items.length} pod(s) still listed after removing everything`);
    const ips = cs.network.allocatedIps();
    if (ips.length > 0) throw failure(cs, `host-local still holds ${ips.join(', ')} after removing the pod`);
    removed[name]!();
    say(`cleanup   ${name.padEnd(10)} ${opts.listed} containers and the pod removed in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }

  if (opts.crikitLog) writeFileSync(opts.crikitLog, `${sides.crikit.side.logTail(2_000).join('\n')}\n`);
  const memory = {} as Record<SideName, SideMemory>;
  for (const name of sideNames) memory[name] = await sides[name].side.stop();
  const out = [
    `containers: ${opts.containers} sequential create → start → status → exec → stop → remove; `
      + `ListContainers ${opts.listCalls}x with ${opts.listed} running containers in the pod (ms)`,
    resultTable(sides, opts.listed),
    ...peakMemoryLines(memory),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  say(`load average ${load()}; ${elapsed()}`);
  if (opts.cpuProfDir) say(`crikitd CPU profile in ${opts.cpuProfDir} (written when crikitd exits)`);
}

// The whole run takes ~35 s on 2 cores (~1 min on a busy machine); the deadline only catches a hang.
runBenchmark('bench:containers', main, { timeoutMs: 10 * 60_000 });
