// The side-by-side benchmark harness: crikit (crikitd + its managed containerd) and containerd's own CRI plugin,
// each on a private temp root, each behind a CRI client on its socket, each with its processes' peak memory.
// Run a benchmark with `runBenchmark` (run-benchmark.ts): every side registers its processes and dirs in
// `teardown` while it lives, so an error, the deadline or Ctrl-C still leaves nothing behind; containerd runs
// under `setpriv --pdeathsig KILL`, so even a SIGKILLed benchmark takes it down (the next run sweeps its dirs).
// A benchmark's `main` begins with `beginBenchmark` (root check, progress on stderr) and prints the sides' peak
// memory with `peakMemoryLines`.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { stringify } from 'smol-toml';
import { containerdConfigSchema, ManagedContainerd } from '@crikit/containerd';
import type { Logger } from '@crikit/core';
import { criClient, type CriClient } from '../support/cri-client.js';
import { crikitdMain, tempRuntimeDirs } from '../support/crikitd.js';
import { formatMiB } from './bench-stats.js';
import { containerdCriPlugin } from './containerd-cri-config.js';
import { childPids, MemorySampler } from './memory-sampler.js';
import { claimDir, killNow, removeTree, teardown, withDeadline } from './run-benchmark.js';

/** Which CRI implementation a side runs. */
export type SideName = 'crikit' | 'containerd';

/** Peak resident memory of a side's processes, in KiB (VmHWM; 0 if never seen). */
export interface SideMemory {
  /** The process serving the CRI: crikitd, or containerd itself on the containerd side. */
  readonly criPeakKiB: number;
  /** containerd (on the crikit side, the one crikitd manages; on the containerd side, the same as criPeakKiB). */
  readonly containerdPeakKiB: number;
}

/**
 * One running CRI implementation on a private, initially empty root (a cold store: nothing in content or
 * snapshots). Start a new side for every cold run; `stop` removes the root.
 */
export interface BenchSide {
  readonly name: SideName;
  /** The CRI socket. */
  readonly socket: string;
  /** A kubelet-shaped client on `socket`. */
  readonly client: CriClient;
  /** The private temp dir holding the side's roots, state, config and socket. */
  readonly dir: string;
  /** pid of the process serving the CRI (crikitd, or containerd). */
  readonly criPid: number;
  /** pid of containerd. */
  readonly containerdPid: number;
  /** The peaks so far. */
  memory(): SideMemory;
  /** The last log lines the side wrote (crikitd's JSON lines; containerd's lines at the level asked for). */
  logTail(lines?: number): string[];
  /** Stops every process of the side (bounded), removes its dir and returns the final peaks. Idempotent. */
  stop(): Promise<SideMemory>;
}

/** What both sides need. */
export interface SideOptions {
  /** A dir of `<host>/hosts.toml` files (containerd's certs.d layout), shared by both sides; see `startBenchRegistry`. */
  readonly registryHostsDir: string;
  /** How long start-up may take until the CRI answers; 60 s by default. */
  readonly startTimeoutMs?: number;
  /** CNI network configs (pod benchmarks); an empty dir of the side's own by default (network not ready). */
  readonly cniConfDir?: string;
}

/** Options of `startCrikitSide`. */
export interface CrikitSideOptions extends SideOptions {
  /** Extra node flags for crikitd, e.g. `['--cpu-prof', '--cpu-prof-dir=/tmp/prof']`. */
  readonly nodeArgs?: readonly string[];
  /** crikitd's `--log-level`; `info` by default (it logs `image pulled` with `ms` there). */
  readonly logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  /** Config sections merged over the harness's (key by key within each section), e.g. `{ image: { maxConcurrentDownloads: 5 } }`. */
  readonly config?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** Options of `startContainerdCriSide`. */
export interface ContainerdCriSideOptions extends SideOptions {
  /** The CRI plugin's `sandbox_image`; containerd's plugin default image otherwise. */
  readonly sandboxImage?: string;
  /** Where the CNI plugins are; `/usr/lib/cni` (Debian's containernetworking-plugins) by default. */
  readonly cniBinDir?: string;
  /** containerd's log level; `warn` by default. */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

/** How a benchmark's `main` reports progress: on stderr, so that stdout holds only the results. */
export interface Progress {
  /** Writes `line` to stderr. */
  say(line: string): void;
  /** The load average now, `0.52 0.61 0.70`. */
  load(): string;
  /** The time since `beginBenchmark`, `12.3 s`. */
  elapsed(): string;
}

/**
 * The start of a benchmark's `main`: fails unless it runs as root, then says the load average (other work on
 * the machine skews the figures; the load average says how much there was).
 * @param name the benchmark, e.g. `bench:pods`
 * @param why what needs root, e.g. `netns, mounts, cgroups, bridges`
 * @throws Error `<name> needs root (<why>)` when it does not run as root
 */
export function beginBenchmark(name: string, why: string): Progress {
  if (process.getuid?.() !== 0) throw new Error(`${name} needs root (${why})`);
  const say = (line: string): void => { process.stderr.write(`${line}\n`); };
  const load = (): string => loadavg().map(l => l.toFixed(2)).join(' ');
  const began = performance.now();
  const elapsed = (): string => `${((performance.now() - began) / 1000).toFixed(1)} s`;
  say(`load average ${load()}`);
  return { say, load, elapsed };
}

/** The result lines on peak memory: crikitd's, and containerd's under crikit and with its own CRI plugin. */
export function peakMemoryLines(memory: Readonly<Record<SideName, SideMemory>>): string[] {
  return [
    `crikit peak RSS ${formatMiB(memory.crikit.criPeakKiB, 'KiB')}`,
    `containerd peak RSS  under crikit ${formatMiB(memory.crikit.containerdPeakKiB, 'KiB')}`
      + `  with its CRI plugin ${formatMiB(memory.containerd.containerdPeakKiB, 'KiB')}`,
  ];
}

/** The highest of each peak over several runs of a side. */
export function highestPeaks(runs: readonly SideMemory[]): SideMemory {
  return {
    criPeakKiB: Math.max(...runs.map(r => r.criPeakKiB)),
    containerdPeakKiB: Math.max(...runs.map(r => r.containerdPeakKiB)),
  };
}

const keptLogLines = 2_000;
const stopTimeoutMs = 20_000;
const setpriv = '/usr/bin/setpriv';

/**
 * Starts crikit as its own `crikitd` process (the bundle packages/server/dist/crikitd.js; run `pnpm build` first) with a
 * managed containerd, on a fresh temp dir, and resolves once the CRI socket answers Version. Its memory is
 * crikitd's own; containerd's is reported beside it.
 * @throws Error with crikitd's last log lines when it exits or does not answer in time (nothing is left behind)
 */
export async function startCrikitSide(options: CrikitSideOptions): Promise<BenchSide> {
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const dirs = tempRuntimeDirs();
  claimDir(dirs.dir);
  const unregisterDir = teardown.add(`remove ${dirs.dir}`, async () => removeTree(dirs.dir), () => removeTree(dirs.dir));
  const base = dirs.config as Record<string, Record<string, unknown>>;
  const managed = base.containerd!.managed as Record<string, unknown>;
  const config: Record<string, Record<string, unknown>> = {
    ...base,
    containerd: { ...base.containerd, managed: { ...managed, binary: containerdWrapper(dirs.dir), startTimeoutMs } },
    image: { registryConfigDir: options.registryHostsDir },
    ...(options.cniConfDir ? { cni: { ...base.cni, confDir: options.cniConfDir } } : {}),
  };
  for (const [section, values] of Object.entries(options.config ?? {})) config[section] = { ...config[section], ...values };
  const file = path.join(dirs.dir, 'crikit.toml');
  writeFileSync(file, stringify(config));

  const args = [...(options.nodeArgs ?? []), crikitdMain, '--config', file, '--log-level', options.logLevel ?? 'info'];
  // With the environment its bin line sets, as the `crikitd` command runs it (node flags go between).
  const proc = spawnOrphanProof(process.execPath, args, { ...process.env, ...binLineEnv(crikitdMain) });
  const lines = lineTail(proc.stderr!);
  const exited = new Promise<void>(resolve => proc.once('exit', () => resolve()));
  const client = criClient(dirs.socket);
  let containerdPid: number | undefined;
  const killAll = (): void => { killNow(proc.pid); killNow(containerdPid); };
  const unregisterProcs = teardown.add(`stop crikitd ${proc.pid}`, async () => { await stopProcs(); }, killAll);
  const stopProcs = async (): Promise<void> => {
    client.close();
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await withDeadline(exited, stopTimeoutMs, 'stop crikitd').catch(() => { proc.kill('SIGKILL'); return exited; });
    // crikitd stops its containerd; this only matters if crikitd was killed before it could.
    killNow(containerdPid);
  };

  try {
    await waitUntil(() => client.runtime.version({}, { timeoutMs: 2_000 }), () => proc.exitCode !== null || proc.signalCode !== null,
      startTimeoutMs, 'crikitd');
    containerdPid = childPids(proc.pid!, 'containerd')[0];
    if (containerdPid === undefined) throw new Error('crikitd answers but runs no containerd child');
  } catch (err) {
    await stopProcs();
    unregisterProcs();
    removeTree(dirs.dir);
    unregisterDir();
    throw new Error(`start crikit side: ${(err as Error).message}\n${lines.slice(-30).join('\n')}`, { cause: err });
  }

  const crikitd = new MemorySampler(proc.pid!);
  const containerd = new MemorySampler(containerdPid);
  const memory = (): SideMemory => ({ criPeakKiB: crikitd.peakKiB, containerdPeakKiB: containerd.peakKiB });
  let stopping: Promise<SideMemory> | undefined;
  return {
    name: 'crikit', socket: dirs.socket, client, dir: dirs.dir, criPid: proc.pid!, containerdPid, memory,
    logTail: (n = 50) => lines.slice(-n),
    stop: () => stopping ??= (async () => {
      // The last readings are taken while both still run: VmHWM is gone with the process.
      crikitd.stop();
      containerd.stop();
      await stopProcs();
      unregisterProcs();
      removeTree(dirs.dir);
      unregisterDir();
      return memory();
    })(),
  };
}

/**
 * Starts containerd with its own CRI plugin (`ManagedContainerd` with `containerdCriPlugin`) on a fresh temp dir, its
 * `registry.config_path` at `registryHostsDir`, and resolves once its CRI ImageService answers (the plugin
 * refuses calls until it has initialized).
 * @throws Error with containerd's last log lines when it does not start or its CRI does not answer in time
 */
export async function startContainerdCriSide(options: ContainerdCriSideOptions): Promise<BenchSide> {
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const dir = mkdtempSync('/tmp/cc-');
  claimDir(dir);
  const unregisterDir = teardown.add(`remove ${dir}`, async () => removeTree(dir), () => removeTree(dir));
  const cniConfDir = options.cniConfDir ?? path.join(dir, 'net.d');
  mkdirSync(cniConfDir, { recursive: true });
  const config = containerdConfigSchema.parse({
    managed: {
      binary: containerdWrapper(dir), rootDir: path.join(dir, 'root'), stateDir: path.join(dir, 'state'),
      startTimeoutMs, stopTimeoutMs: stopTimeoutMs / 2, logLevel: options.logLevel ?? 'warn',
    },
  });
  const lines: string[] = [];
  const managed = new ManagedContainerd(config, tailLogger(lines), {
    plugins: containerdCriPlugin({
      cniBinDir: options.cniBinDir ?? '/usr/lib/cni', cniConfDir, registryConfigPath: options.registryHostsDir,
      ...(options.sandboxImage ? { sandboxImage: options.sandboxImage } : {}),
    }),
  });
  const client = criClient(managed.address);
  let pid: number | undefined;
  const stopProcs = async (): Promise<void> => {
    client.close();
    await managed.stop(AbortSignal.timeout(stopTimeoutMs));
  };
  const unregisterProcs = teardown.add('stop containerd (CRI)', stopProcs, () => killNow(pid ?? managed.pid));

  try {
    await managed.start(AbortSignal.timeout(startTimeoutMs));
    pid = managed.pid!;
    await waitUntil(() => client.image.listImages({}, { timeoutMs: 2_000 }), () => managed.pid === undefined, startTimeoutMs, 'containerd CRI');
  } catch (err) {
    await stopProcs().catch(() => killNow(pid));
    unregisterProcs();
    removeTree(dir);
    unregisterDir();
    throw new Error(`start containerd CRI side: ${(err as Error).message}\n${lines.slice(-30).join('\n')}`, { cause: err });
  }

  const sampler = new MemorySampler(pid);
  const memory = (): SideMemory => ({ criPeakKiB: sampler.peakKiB, containerdPeakKiB: sampler.peakKiB });
  let stopping: Promise<SideMemory> | undefined;
  return {
    name: 'containerd', socket: managed.address, client, dir, criPid: pid, containerdPid: pid, memory,
    logTail: (n = 50) => lines.slice(-n),
    stop: () => stopping ??= (async () => {
      sampler.stop();
      await stopProcs().catch(() => killNow(pid));
      unregisterProcs();
      removeTree(dir);
      unregisterDir();
      return memory();
    })(),
  };
}

/** Starts a side with `start`, runs `fn` on it and stops it whatever happens; resolves with `fn`'s result and the side's peaks. */
export async function withSide<T>(start: () => Promise<BenchSide>, fn: (side: BenchSide) => Promise<T>): Promise<{ result: T; memory: SideMemory }> {
  const side = await start();
  try {
    const result = await fn(side);
    return { result, memory: await side.stop() };
  } finally {
    await side.stop();
  }
}

/**
 * A script that runs containerd under `setpriv --pdeathsig KILL`, so the kernel kills containerd when its
 * parent (crikitd, or this benchmark) dies without stopping it. `exec` keeps the pid and the name
 * `containerd`. Plain `containerd` where setpriv is missing.
 */
function containerdWrapper(dir: string): string {
  if (!existsSync(setpriv)) return 'containerd';
  const file = path.join(dir, 'containerd-pdeathsig.sh');
  writeFileSync(file, `#!/bin/sh\nexec ${setpriv} --pdeathsig KILL -- containerd "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

/** The NAME=VALUE pairs of a script's `#!/usr/bin/env -S NAME=VALUE… node` line. */
function binLineEnv(script: string): Record<string, string> {
  const line = readFileSync(script, 'utf8').split('\n', 1)[0] ?? '';
  return Object.fromEntries([...line.matchAll(/\s([A-Z_]+)=(\S*)/g)].map(m => [m[1]!, m[2]!]));
}

/** Spawns `command` (under `setpriv --pdeathsig KILL` when it exists, same pid), stdout ignored, stderr piped. */
function spawnOrphanProof(command: string, args: readonly string[], env?: NodeJS.ProcessEnv) {
  return existsSync(setpriv)
    ? spawn(setpriv, ['--pdeathsig', 'KILL', '--', command, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env })
    : spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
}

/** Keeps the last lines of a stream in an array that it returns. */
function lineTail(stream: NodeJS.ReadableStream): string[] {
  const lines: string[] = [];
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', line => {
    lines.push(line);
    if (lines.length > keptLogLines) lines.splice(0, lines.length - keptLogLines);
  });
  return lines;
}

/** A Logger that keeps the last lines (containerd's own, which ManagedContainerd logs at debug, and its own messages). */
function tailLogger(lines: string[]): Logger {
  const keep = (level: string) => (obj: object, msg?: string): void => {
    const line = (obj as { line?: unknown }).line;
    lines.push(typeof line === 'string' ? line : `${level} ${msg ?? ''} ${JSON.stringify(obj)}`);
    if (lines.length > keptLogLines) lines.splice(0, lines.length - keptLogLines);
  };
  const logger: Logger = { trace: () => {}, debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error'), child: () => logger };
  return logger;
}

/** Calls `probe` until it resolves; fails when `gone()` says the process died, or after `timeoutMs`. */
async function waitUntil(probe: () => Promise<unknown>, gone: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone()) throw new Error(`${what} exited during start-up`);
    try {
      await probe();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what} did not answer within ${timeoutMs} ms: ${(err as Error).message}`);
      await new Promise(resolve => setTimeout(resolve, 100));
    }
  }
}
