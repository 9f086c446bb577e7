// `pnpm bench:exec`: the streaming Exec path through crikit's streaming server and through containerd's own
// CRI plugin, in the same run, with the same testkit remote-command client, the same busybox image and one
// running container per side (in one pod per side on real CNI):
//  - round trip: Exec RPC → connect to the URL → `/bin/echo hi` → stdout and exit status read, over SPDY/3.1 and
//    over WebSocket; N (100) per transport and side, in blocks of 10 with the side going first alternating;
//  - throughput: `head -c 100 MiB /dev/zero` over exec stdout, R (3) runs per transport and side.
// Prints p50/p99/mean per transport, MiB/s, and the ratios crikit/containerd.
//
//   node test/dist/bench/exec.js [--calls N] [--runs R] [--mib M]                                         (needs root)
//
// Every result is checked (stdout `hi\n`, exit 0, exactly M MiB); nothing here asserts on time.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { cri, type PartialMessage } from '@crikit/api';
import { busyboxImage, connectSpdyCommand, connectWebSocketCommand, pauseImage, type StreamTransport } from '@crikit/testkit';
import { startBenchRegistry } from './bench-registry.js';
import { reading, record, recordLatency } from './bench-record.js';
import { formatRatio, formatTable, latencyTable, ratio, summarize } from './bench-stats.js';
import { beginBenchmark, peakMemoryLines, startContainerdCriSide, startCrikitSide, type BenchSide, type SideMemory, type SideName } from './harness.js';
import { benchNetwork, cleanCgroupParentAtTeardown, killPodLeftovers, netnsPins, removeCgroupParent, type BenchNetwork } from './pod-network.js';
import { runBenchmark, teardown } from './run-benchmark.js';

const sideNames: readonly SideName[] = ['crikit', 'containerd'];
const transports: readonly StreamTransport[] = ['spdy', 'websocket'];
const cgroupParent = 'crikit-bench-exec';
const namespace = 'crikit-bench';
const block = 10;
const rpcTimeoutMs = 60_000;

interface Options { readonly calls: number; readonly runs: number; readonly mib: number }

function options(): Options {
  const { values } = parseArgs({ options: { calls: { type: 'string' }, runs: { type: 'string' }, mib: { type: 'string' } } });
  const int = (name: string, raw: string | undefined, dflt: number): number => {
    const n = Number(raw ?? dflt);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${raw}`);
    return n;
  };
  return { calls: int('calls', values.calls, 100), runs: int('runs', values.runs, 3), mib: int('mib', values.mib, 100) };
}

/** A side with its running container and its samples. */
interface ExecSide {
  readonly name: SideName;
  readonly side: BenchSide;
  containerId: string;
  readonly latency: Record<StreamTransport, number[]>;
  /** MiB/s per run. */
  readonly throughput: Record<StreamTransport, number[]>;
}

function fail(es: ExecSide, message: string, cause?: unknown): Error {
  return new Error(`${es.name}: ${message}\n--- last ${es.name} log lines ---\n${es.side.logTail(25).join('\n')}`, { cause });
}

/** Exec `cmd` through the side's Exec RPC and the testkit client; returns stdout's byte count, its text when small, and the exit code. */
async function execOnce(es: ExecSide, transport: StreamTransport, cmd: string[]): Promise<{ bytes: number; text: string; exitCode: number | undefined }> {
  const { url } = await es.side.client.runtime.exec({ containerId: es.containerId, cmd, stdout: true }, { timeoutMs: rpcTimeoutMs });
  const session = await (transport === 'spdy' ? connectSpdyCommand : connectWebSocketCommand)(url, { transport, stdout: true });
  let bytes = 0;
  let text = '';
  session.stdout.on('data', (c: Buffer) => { bytes += c.length; if (text.length < 64) text += c.toString(); });
  session.stderr.resume();
  const result = await session.done;
  await new Promise(r => setImmediate(r));
  return { bytes, text, exitCode: result.exitCode };
}

async function roundTrip(es: ExecSide, transport: StreamTransport): Promise<number> {
  const started = performance.now();
  const r = await execOnce(es, transport, ['/bin/echo', 'hi']).catch(err => { throw fail(es, `exec over ${transport}: ${(err as Error).message}`, err); });
  const ms = performance.now() - started;
  if (r.text !== 'hi\n' || r.exitCode !== 0) throw fail(es, `echo hi over ${transport} gave ${JSON.stringify(r.text)}, exit ${r.exitCode}`);
  return ms;
}

async function throughputRun(es: ExecSide, transport: StreamTransport, mib: number): Promise<number> {
  const started = performance.now();
  const r = await execOnce(es, transport, ['/bin/head', '-c', String(mib * 1024 * 1024), '/dev/zero']);
  const seconds = (performance.now() - started) / 1000;
  if (r.bytes !== mib * 1024 * 1024 || r.exitCode !== 0) throw fail(es, `head -c ${mib} MiB over ${transport} gave ${r.bytes} bytes, exit ${r.exitCode}`);
  return mib / seconds;
}

/** Stops and removes every pod the side lists (with its container). */
async function removeAllPods(side: BenchSide): Promise<void> {
  const rt = side.client.runtime;
  for (const { id } of (await rt.listPodSandbox({}, { timeoutMs: 10_000 })).items) {
    await rt.stopPodSandbox({ podSandboxId: id }, { timeoutMs: 30_000 });
    await rt.removePodSandbox({ podSandboxId: id }, { timeoutMs: 30_000 });
  }
}

function podConfig(network: BenchNetwork, name: string): PartialMessage<cri.PodSandboxConfig> {
  const uid = randomUUID();
  const logDirectory = network.logDir(`${namespace}_${name}_${uid}`);
  mkdirSync(logDirectory, { recursive: true });
  return {
    metadata: { name, namespace, uid, attempt: 0 }, hostname: name, logDirectory,
    linux: { cgroupParent: `/${cgroupParent}`, securityContext: { namespaceOptions: { network: cri.NamespaceMode.POD, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD } } },
  };
}

async function main(signal: AbortSignal): Promise<void> {
  const opts = options();
  const { say, load, elapsed } = beginBenchmark('bench:exec', 'netns, mounts, cgroups, bridges');
  const registry = await startBenchRegistry();
  const sandboxImage = await registry.push('bench/pause', await pauseImage(), '3.10');
  const busybox = await registry.push('bench/busybox', await busyboxImage(), '1');
  killPodLeftovers(cgroupParent, [], new Set());
  removeCgroupParent(cgroupParent);
  cleanCgroupParentAtTeardown(cgroupParent);
  const networks: Record<SideName, BenchNetwork> = {
    crikit: benchNetwork('crikit-bench-exec', 'ckb83', 83),
    containerd: benchNetwork('containerd-bench-exec', 'ckb84', 84),
  };
  const netnsBefore = netnsPins();
  const sideDirs: string[] = [];
  const killLeftovers = (): void => killPodLeftovers(cgroupParent, sideDirs, netnsBefore);
  teardown.add('kill leftover pod and container processes', async () => killLeftovers(), killLeftovers);
  const sides = {} as Record<SideName, ExecSide>;
  const removePods: Partial<Record<SideName, () => void>> = {};
  for (const name of sideNames) {
    signal.throwIfAborted();
    const network = networks[name];
    const side = name === 'crikit'
      ? await startCrikitSide({ registryHostsDir: registry.hostsDir, cniConfDir: network.confDir, config: { sandbox: { sandboxImage }, runtimes: { restrictOomScoreAdj: true }, cni: { binDirs: ['/usr/lib/cni'] } } })
      : await startContainerdCriSide({ registryHostsDir: registry.hostsDir, cniConfDir: network.confDir, cniBinDir: '/usr/lib/cni', sandboxImage });
    sideDirs.push(side.dir);
    const es: ExecSide = { name, side, containerId: '', latency: { spdy: [], websocket: [] }, throughput: { spdy: [], websocket: [] } };
    const rt = side.client.runtime;
    // Runs before the side stops (teardown goes last first), unless the run got to remove the pod itself.
    removePods[name] = teardown.add(`remove the pod on ${name}`, () => removeAllPods(side), () => {});
    const { imageRef } = await side.client.image.pullImage({ image: { image: busybox } }, { timeoutMs: rpcTimeoutMs });
    const config = podConfig(network, `bench-exec-${name}`);
    const { podSandboxId } = await rt.runPodSandbox({ config }, { timeoutMs: rpcTimeoutMs });
    const { containerId } = await rt.createContainer({ podSandboxId, sandboxConfig: config, config: {
      metadata: { name: 'target', attempt: 0 }, image: { image: imageRef, userSpecifiedImage: busybox }, command: ['/bin/sh', '-c', 'exec sleep 100000'],
      logPath: 'target.log', linux: { securityContext: { namespaceOptions: { network: cri.NamespaceMode.POD, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD } } },
    } }, { timeoutMs: rpcTimeoutMs });
    await rt.startContainer({ containerId }, { timeoutMs: rpcTimeoutMs });
    es.containerId = containerId;
    // Warm-up: a few round trips over each transport, not timed.
    for (const t of transports) for (let i = 0; i < 3; i++) await roundTrip(es, t);
    sides[name] = es;
    say(`${name.padEnd(10)} up, pod and container running (${elapsed()})`);
  }

  for (const transport of transports) {
    for (let b = 0; b < Math.ceil(opts.calls / block); b++) {
      const order = b % 2 === 0 ? sideNames : [...sideNames].reverse();
      for (const name of order) {
        for (let i = b * block; i < Math.min(opts.calls, (b + 1) * block); i++) {
          signal.throwIfAborted();
          sides[name].latency[transport].push(await roundTrip(sides[name], transport));
        }
      }
    }
    say(`round trips over ${transport} done (${elapsed()})`);
    for (let r = 0; r < opts.runs; r++) {
      for (const name of r % 2 === 0 ? sideNames : [...sideNames].reverse()) {
        signal.throwIfAborted();
        sides[name].throughput[transport].push(await throughputRun(sides[name], transport, opts.mib));
      }
    }
    say(`throughput over ${transport} done (${elapsed()})`);
  }

  const memory = {} as Record<SideName, SideMemory>;
  for (const name of sideNames) {
    await removeAllPods(sides[name].side);
    removePods[name]!();
    memory[name] = await sides[name].side.stop();
  }
  const mean = (v: readonly number[]) => summarize(v).mean;
  const label = (t: StreamTransport) => (t === 'spdy' ? 'SPDY/3.1' : 'WebSocket');
  recordLatency('exec', transports.map(t => [`exec round trip, ${label(t)}`, sides.crikit.latency[t], sides.containerd.latency[t]] as const));
  record(transports.map(t => ({ bench: 'exec', operation: `exec stdout throughput, ${label(t)}`, unit: 'MiB/s', higherIsBetter: true,
    crikit: reading(mean(sides.crikit.throughput[t])), containerd: reading(mean(sides.containerd.throughput[t])) })));
  const out = [
    `exec round trip (Exec RPC + connect + /bin/echo hi + status), ${opts.calls} per transport and side (ms)`,
    latencyTable(transports.map(t => [t === 'spdy' ? 'SPDY/3.1' : 'WebSocket', sides.crikit.latency[t], sides.containerd.latency[t]] as const)),
    '',
    `exec stdout throughput (head -c ${opts.mib} MiB /dev/zero), ${opts.runs} runs per transport and side (MiB/s, mean)`,
    formatTable([
      ['', 'crikit', 'containerd', 'ratio'],
      ...transports.map(t => [t === 'spdy' ? 'SPDY/3.1' : 'WebSocket', mean(sides.crikit.throughput[t]).toFixed(0), mean(sides.containerd.throughput[t]).toFixed(0),
        formatRatio(ratio(mean(sides.crikit.throughput[t]), mean(sides.containerd.throughput[t])))]),
    ]),
    ...peakMemoryLines(memory),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  say(`load average ${load()}; ${elapsed()}`);
}

runBenchmark('bench:exec', main, { timeoutMs: 15 * 60_000 });
