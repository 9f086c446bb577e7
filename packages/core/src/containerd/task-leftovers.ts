import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ContainerdClient } from '../contracts/containerd-client.js';
import { isNotFound } from '../errors.js';

/** What removeTaskLeftovers found and removed. */
export interface TaskLeftovers {
  /** Shim processes killed (they outlived the grace). */
  readonly shims: number[];
  /** Processes killed in the container's cgroup (a runc init a killed create left). */
  readonly processes: number[];
  /** Cgroup dirs removed. */
  readonly cgroups: string[];
  /** Shim bundle dirs removed. */
  readonly bundles: string[];
}

const cgroupRoot = '/sys/fs/cgroup';
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

/**
 * Removes what a task of container `id` left on the host once containerd has no task for it. A containerd
 * killed while it created the task can lose track of it: the shim it started keeps running (with its bundle
 * dir and FIFOs), runc's init process stays in the container's cgroup, or runc made the cgroup and died.
 * Shims get `graceMs` to exit by themselves first (containerd shuts down the shim of a task it just
 * deleted). `cgroupsPath` is the spec's `linux.cgroupsPath`; only the path form (cgroupfs) is handled.
 * Idempotent; what is already gone is fine.
 */
export async function removeTaskLeftovers(id: string, cgroupsPath: string | undefined, graceMs = 2_000): Promise<TaskLeftovers> {
  const out: TaskLeftovers = { shims: [], processes: [], cgroups: [], bundles: [] };
  let shims = await shimsOf(id);
  for (let waited = 0; shims.length > 0 && waited < graceMs; waited += 100) {
    await sleep(100);
    shims = (await Promise.all(shims.map(async s => (await isAlive(s.pid)) ? s : undefined))).filter(s => s !== undefined);
  }
  for (const shim of shims) {
    if (kill(shim.pid)) out.shims.push(shim.pid);
    if (shim.bundle && (await removeBundle(shim.bundle, id))) out.bundles.push(shim.bundle);
  }
  if (cgroupsPath?.startsWith('/')) {
    out.processes.push(...await thawAndKillCgroup(cgroupsPath));
    for (const dir of await cgroupDirs(cgroupsPath)) if (await rmdirWhenEmpty(dir)) out.cgroups.push(dir);
  }
  return out;
}

/**
 * Thaws the cgroup at `cgroupsPath` (the spec's path form) and SIGKILLs every process in it. A `runc kill
 * --all` cut short (containerd killed meanwhile) leaves the cgroup frozen with the signal undelivered:
 * runc then refuses to delete the container ("paused") though containerd says its init stopped.
 * Resolves with the pids killed.
 */
export async function thawAndKillCgroup(cgroupsPath: string): Promise<number[]> {
  if (!cgroupsPath.startsWith('/')) return [];
  const killed: number[] = [];
  for (const dir of await cgroupDirs(cgroupsPath)) {
    // cgroup v1's freezer hierarchy, or cgroup v2's cgroup.freeze; other hierarchies have neither.
    await fs.writeFile(path.join(dir, 'freezer.state'), 'THAWED').catch(() => undefined);
    await fs.writeFile(path.join(dir, 'cgroup.freeze'), '0').catch(() => undefined);
    const procs = (await fs.readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
    for (const pid of procs) if (!killed.includes(pid) && kill(pid)) killed.push(pid);
  }
  return killed;
}

/** The `linux.cgroupsPath` of containerd container `id`'s spec; undefined when it has none or is gone. */
export async function cgroupsPathOf(containerd: ContainerdClient, id: string, signal: AbortSignal): Promise<string | undefined> {
  try {
    const { container } = await containerd.containers.get({ id }, { signal });
    return specCgroupsPath(container?.spec?.value);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The `linux.cgroupsPath` of an OCI spec in JSON (bytes or text); undefined when it has none. */
export function specCgroupsPath(spec: Uint8Array | string | undefined): string | undefined {
  if (spec === undefined || spec.length === 0) return undefined;
  try {
    const path = (JSON.parse(Buffer.from(spec).toString('utf8')) as { linux?: { cgroupsPath?: unknown } }).linux?.cgroupsPath;
    return typeof path === 'string' ? path : undefined;
  } catch {
    return undefined;
  }
}

/** The ids of the shim processes running for containerd at `address` in `namespace` (read from /proc). */
export async function shimIdsOn(address: string, namespace: string): Promise<string[]> {
  return (await shimProcesses()).filter(s => s.address === address && s.namespace === namespace).map(s => s.id);
}

/** The shim processes started for `id` (any containerd), with the bundle dir each runs in. */
async function shimsOf(id: string): Promise<{ pid: number; bundle: string | undefined }[]> {
  const mine = (await shimProcesses()).filter(s => s.id === id);
  return Promise.all(mine.map(async s => ({ pid: s.pid, bundle: await fs.readlink(`/proc/${s.pid}/cwd`).catch(() => undefined) })));
}

/** Every process whose command line is a containerd shim's (`containerd-shim… -namespace N -id I -address A`). */
async function shimProcesses(): Promise<{ pid: number; id: string; address: string | undefined; namespace: string | undefined }[]> {
  const found: { pid: number; id: string; address: string | undefined; namespace: string | undefined }[] = [];
  for (const name of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const argv = (await fs.readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).split('\0');
    const arg = (flag: string): string | undefined => { const i = argv.indexOf(flag); return i < 0 ? undefined : argv[i + 1]; };
    const i = argv.indexOf('-id');
    const id = arg('-id');
    if (!id || !argv.slice(0, i).some(a => path.basename(a).startsWith('containerd-shim'))) continue;
    found.push({ pid: Number(name), id, address: arg('-address'), namespace: arg('-namespace') });
  }
  return found;
}

const isAlive = async (pid: number): Promise<boolean> => {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // A zombie has exited; only its parent's wait is missing.
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
};

function kill(pid: number): boolean {
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/** A shim's bundle dir is `<containerd state>/io.containerd.runtime.v2.task/<namespace>/<id>`; anything else is left alone. */
async function removeBundle(bundle: string, id: string): Promise<boolean> {
  if (path.basename(bundle) !== id || path.basename(path.dirname(path.dirname(bundle))) !== 'io.containerd.runtime.v2.task') return false;
  const rootfs = path.join(bundle, 'rootfs');
  const mountinfo = await fs.readFile('/proc/self/mountinfo', 'utf8');
  if (mountinfo.split('\n').some(line => line.split(' ')[4] === rootfs)) {
    await promisify(execFile)('umount', ['--lazy', rootfs], { timeout: 10_000 }).catch(() => undefined);
  }
  await fs.rm(bundle, { recursive: true, force: true });
  return true;
}

/** The dirs of `cgroupsPath` that exist: one under cgroup v2, one per hierarchy under v1. */
async function cgroupDirs(cgroupsPath: string): Promise<string[]> {
  const entries = await fs.readdir(cgroupRoot, { withFileTypes: true }).catch(() => []);
  const v2 = entries.some(e => e.name === 'cgroup.controllers');
  const candidates = v2 ? [path.join(cgroupRoot, cgroupsPath)] : entries.filter(e => e.isDirectory()).map(e => path.join(cgroupRoot, e.name, cgroupsPath));
  const present = await Promise.all(candidates.map(async d => (await fs.stat(d).then(s => s.isDirectory(), () => false)) ? d : undefined));
  return present.filter(d => d !== undefined);
}

/** Removes the cgroup once its killed processes are gone (up to 2 s). */
async function rmdirWhenEmpty(dir: string): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    try {
      await fs.rmdir(dir);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      await sleep(100);
    }
  }
  return false;
}
