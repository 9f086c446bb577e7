import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What one test (file) owns on the host, so checks of tests running side by side never see each other. */
export interface LeakScope {
  /** Everything under these dirs is the test's: mounts, netns pins, FIFOs, processes naming them. */
  readonly dirs: readonly string[];
  /** host-local data dirs: one file per allocated IP, in a dir per network. */
  readonly ipamDirs?: readonly string[];
  /** Substrings that mark the test's iptables rules (its subnet, its CNI network name). */
  readonly iptablesMarks?: readonly string[];
  /**
   * What may appear and stay, by kind: host set-up made once and reused by the next start, not per pod
   * (an item matches when it equals the entry, starts with it and a space (a mount point and its type), or
   * starts with an entry ending in "/" (everything under a dir)).
   */
  readonly expected?: { readonly [K in LeakKind]?: readonly string[] };
}

/** The kinds of resource the checker compares. */
export type LeakKind =
  | 'netns' | 'mounts' | 'ips' | 'iptables' | 'fifos' | 'processes'
  | 'fds' | 'children' | 'containers' | 'snapshots' | 'leases'
  /** An observation that failed: the checker could not look, so it cannot call the test clean. */
  | 'probes';

/** What exists of each kind at one moment; each item is a stable, readable string. */
export type LeakSnapshot = { readonly [K in LeakKind]?: readonly string[] };

/** The items that appeared between two snapshots, by kind (kinds with none are absent). */
export type LeakReport = { readonly [K in LeakKind]?: readonly string[] };

/** What a containerd holds for a namespace, as the checker compares it (read through the caller's client). */
export interface ContainerdItems {
  readonly containers: readonly string[];
  /** Active snapshots only (a container's rootfs): committed ones are image layers, kept on purpose. */
  readonly snapshots: readonly string[];
  readonly leases: readonly string[];
}

/**
 * The items of `after` that `before` does not have, kind by kind; an item present n times before
 * and m > n times after counts m - n times. Items that went away are no leak and are not reported.
 */
export function diffSnapshots(before: LeakSnapshot, after: LeakSnapshot): LeakReport {
  const report: Partial<Record<LeakKind, string[]>> = {};
  for (const kind of Object.keys(after) as LeakKind[]) {
    const left = new Map<string, number>();
    for (const item of before[kind] ?? []) left.set(item, (left.get(item) ?? 0) + 1);
    const added: string[] = [];
    for (const item of after[kind] ?? []) {
      const n = left.get(item) ?? 0;
      if (n > 0) left.set(item, n - 1);
      else added.push(item);
    }
    if (added.length > 0) report[kind] = added.sort();
  }
  return report;
}

/** The report without the items `expected` allows (see LeakScope.expected). */
export function withoutExpected(report: LeakReport, expected: NonNullable<LeakScope['expected']>): LeakReport {
  const out: Partial<Record<LeakKind, string[]>> = {};
  for (const [kind, items] of Object.entries(report) as [LeakKind, readonly string[]][]) {
    const allowed = expected[kind] ?? [];
    const left = items.filter(i => !allowed.some(a => i === a || i.startsWith(a.endsWith('/') ? a : `${a} `)));
    if (left.length > 0) out[kind] = left;
  }
  return out;
}

/** True when the report names nothing. */
export function isClean(report: LeakReport): boolean {
  return Object.values(report).every(items => !items || items.length === 0);
}

/** The report as lines for an error message: `<kind>: <item>`. */
export function formatLeaks(report: LeakReport): string {
  return Object.entries(report).flatMap(([kind, items]) => (items ?? []).map(i => `${kind}: ${i}`)).join('\n');
}

/** Thrown by LeakChecker.assertClean; `report` says what leaked. */
export class LeakError extends Error {
  constructor(readonly report: LeakReport, what: string) {
    super(`${what} leaked:\n${formatLeaks(report)}`);
    this.name = 'LeakError';
  }
}

const under = (p: string, dirs: readonly string[]): boolean => dirs.some(d => p === d || p.startsWith(`${d}/`));

/** Mount points under the scope's dirs, split into netns pins (nsfs) and the rest. */
async function mountsIn(dirs: readonly string[]): Promise<{ netns: string[]; mounts: string[] }> {
  const netns: string[] = [];
  const mounts: string[] = [];
  for (const line of (await fs.readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const fields = line.split(' ');
    const point = fields[4];
    if (!point || !under(point, dirs)) continue;
    // The fs type follows the " - " separator.
    const type = fields[fields.indexOf('-') + 1] ?? '';
    if (type === 'nsfs') netns.push(point);
    else mounts.push(`${point} (${type})`);
  }
  return { netns, mounts };
}

/** IPs host-local holds: `<network>/<ip>` for each reservation file. */
async function ipsIn(ipamDirs: readonly string[]): Promise<string[]> {
  const ips: string[] = [];
  for (const dir of ipamDirs) {
    for (const net of await fs.readdir(dir).catch(() => [] as string[])) {
      for (const f of await fs.readdir(path.join(dir, net)).catch(() => [] as string[])) {
        if (/^[0-9a-f.:]+$/i.test(f) && /[.:]/.test(f)) ips.push(`${net}/${f}`);
      }
    }
  }
  return ips;
}

/** The nat and filter rules and chains that carry one of `marks` (packet counters stripped). */
async function iptablesWith(marks: readonly string[]): Promise<string[]> {
  if (marks.length === 0) return [];
  const rules: string[] = [];
  for (const table of ['nat', 'filter']) {
    const { stdout } = await run('iptables-save', ['-t', table], { maxBuffer: 64 * 1024 * 1024 });
    for (const line of stdout.split('\n')) {
      if (marks.some(m => line.includes(m))) rules.push(`${table} ${line.replace(/ \[\d+:\d+\]$/, '')}`);
    }
  }
  return rules;
}

/** FIFOs under the dirs (stdio of containers and execs). */
async function fifosIn(dirs: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 8) return;
    for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(dir, e.name);
      if (e.isFIFO()) found.push(p);
      // Never into mounts (container rootfs, shm): only what the runtime wrote itself.
      else if (e.isDirectory() && !(await isMountPoint(p))) await walk(p, depth + 1);
    }
  };
  for (const d of dirs) await walk(d, 0);
  return found;
}

async function isMountPoint(p: string): Promise<boolean> {
  const [a, b] = await Promise.all([fs.stat(p).catch(() => undefined), fs.stat(path.dirname(p)).catch(() => undefined)]);
  return !!a && !!b && a.dev !== b.dev;
}

/** Processes whose command line names one of the dirs (shims, plugins, helpers), as `<pid> <argv>`. */
async function processesNaming(dirs: readonly string[], except: ReadonlySet<number>): Promise<string[]> {
  const found: string[] = [];
  for (const name of await fs.readdir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || except.has(pid)) continue;
    const argv = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean);
    if (argv.some(a => dirs.some(d => a.includes(d)))) found.push(`${pid} ${argv.join(' ')}`);
  }
  return found;
}

/** The fds of `pid` that point into the dirs (FIFOs, logs, netns files), as `<target>`. */
export async function fdsOf(pid: number, dirs: readonly string[]): Promise<string[]> {
  const fdDir = `/proc/${pid}/fd`;
  const targets: string[] = [];
  for (const fd of await fs.readdir(fdDir).catch(() => [] as string[])) {
    const target = await fs.readlink(path.join(fdDir, fd)).catch(() => '');
    if (under(target.replace(/ \(deleted\)$/, ''), dirs)) targets.push(target);
  }
  return targets;
}

/** The child processes of `pid`, as `<pid> <argv>`. */
export async function childrenOf(pid: number): Promise<string[]> {
  const found: string[] = [];
  for (const name of await fs.readdir('/proc')) {
    const child = Number(name);
    if (!Number.isInteger(child)) continue;
    const stat = await fs.readFile(`/proc/${child}/stat`, 'utf8').catch(() => '');
    // The parent pid is the second field after the parenthesised command name.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== pid) continue;
    const argv = (await fs.readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean);
    found.push(`${child} ${argv.join(' ')}`);
  }
  return found;
}

/**
 * Finds what a test leaked on the host: netns pins, mounts, host-local IPs, iptables rules, FIFOs
 * and processes in its scope, and (through `observe`) containerd's containers, active snapshots and
 * leases and a runtime process's fds and children. `start` takes the baseline; `check` compares.
 *
 * ```ts
 * const leaks = await LeakChecker.start({ dirs: [dir], ipamDirs: [ipam], iptablesMarks: ['10.88.94.'] });
 * // … the test; before its runtime stops:
 * await leaks.observeRuntime(process.pid, containerdPid);  leaks.observeContainerd(await listContainerd());
 * assertClean(await leaks.check(), 'pods.test.ts');
 * ```
 */
export class LeakChecker {
  private readonly observed: Partial<Record<LeakKind, string[]>> = {};

  private constructor(
    readonly scope: LeakScope, readonly baseline: LeakSnapshot,
    private readonly except: ReadonlySet<number>, private readonly ownChildren: readonly string[],
  ) {}

  /** Takes the baseline of the host-side kinds now. */
  static async start(scope: LeakScope): Promise<LeakChecker> {
    const except = new Set([process.pid]);
    return new LeakChecker(scope, await hostSnapshot(scope, except), except, await childrenOf(process.pid));
  }

  /**
   * Records what a containerd holds while it still runs (it is stopped before `check`). Its baseline is
   * empty: the test's own containerd started with nothing, and image layers are not counted.
   */
  observeContainerd(items: ContainerdItems): void {
    this.observed.containers = [...items.containers];
    this.observed.snapshots = [...items.snapshots];
    this.observed.leases = [...items.leases];
  }

  /**
   * Records the runtime process's fds into the scope and its children, except `allowed` pids (its managed
   * containerd) and children it had at `start` (e.g. the test's registry, for an in-process runtime).
   */
  async observeRuntime(pid: number, allowed: readonly number[] = []): Promise<void> {
    this.observed.fds = await fdsOf(pid, this.scope.dirs);
    // An in-process runtime's process is the test's: the children it had at start are not the runtime's.
    const known = new Set(pid === process.pid ? this.ownChildren : []);
    this.observed.children = (await childrenOf(pid))
      .filter(c => !allowed.includes(Number(c.split(' ')[0])) && !known.has(c));
  }

  /** Records that an observation failed; `check` reports it, for an unchecked test is no clean one. */
  observeFailure(what: string, err: unknown): void {
    (this.observed.probes ??= []).push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }

  /**
   * The leaks: what the host-side kinds gained since `start`, plus everything observed. What is still
   * going away (a shim exiting after its task was deleted) gets up to `settleMs` to go; a leak stays.
   */
  async check(settleMs = 5_000): Promise<LeakReport> {
    const until = Date.now() + settleMs;
    for (;;) {
      const after = { ...(await hostSnapshot(this.scope, this.except)), ...this.observed };
      const report = withoutExpected(diffSnapshots(this.baseline, after), this.scope.expected ?? {});
      if (isClean(report) || Date.now() >= until) return report;
      await new Promise(r => setTimeout(r, 250));
    }
  }
}

/** Throws LeakError naming every leak in `report`, unless it is clean. */
export function assertClean(report: LeakReport, what: string): void {
  if (!isClean(report)) throw new LeakError(report, what);
}

async function hostSnapshot(scope: LeakScope, except: ReadonlySet<number>): Promise<LeakSnapshot> {
  const { netns, mounts } = await mountsIn(scope.dirs);
  return {
    netns, mounts,
    ips: await ipsIn(scope.ipamDirs ?? []),
    iptables: await iptablesWith(scope.iptablesMarks ?? []),
    fifos: await fifosIn(scope.dirs),
    processes: await processesNaming(scope.dirs, except),
  };
}
