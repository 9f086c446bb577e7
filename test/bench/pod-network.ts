// What a pod benchmark sets up around a side and must undo: a CNI network of the side's own (conflist, bridge,
// host-local data), the pod cgroup parent, and, should a side die with pods still running, their processes,
// shims and containerd's netns pins. Everything here is best effort and synchronous, so the exit hook can use it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { claimDir, killNow, removeTree, teardown } from './run-benchmark.js';

/** One side's CNI network: a bridge of its own on a /24 of its own. */
export interface BenchNetwork {
  /** The temp dir holding the conf dir, host-local's data and the pods' log dirs. */
  readonly dir: string;
  /** The CNI conf dir to give the side (one conflist). */
  readonly confDir: string;
  readonly bridge: string;
  /** `10.88.<n>.0/24`. */
  readonly subnet: string;
  /** Whether `ip` is in the subnet. */
  contains(ip: string): boolean;
  /** Where pod `name`'s logs go (the kubelet creates it before RunPodSandbox; so does the benchmark). */
  logDir(name: string): string;
  /** IPs host-local holds now. */
  allocatedIps(): string[];
}

/**
 * Writes a conflist (bridge `bridge` with host-local on 10.88.`n`.0/24, then portmap) into a new temp dir
 * and registers its undo in `teardown`: delete the bridge, remove the dir. The loopback plugin is not in
 * the list: crikit and containerd both attach `lo` with their own built-in loopback network, as the
 * kubelet expects. A bridge of that name left by an earlier run is deleted first.
 */
export function benchNetwork(name: string, bridge: string, n: number): BenchNetwork {
  const dir = mkdtempSync('/tmp/cn-');
  claimDir(dir);
  const undo = (): void => { deleteLink(bridge); removeTree(dir); };
  teardown.add(`remove network ${bridge} and ${dir}`, async () => undo(), undo);
  deleteLink(bridge);
  const confDir = path.join(dir, 'net.d');
  const ipamDir = path.join(dir, 'ipam');
  mkdirSync(confDir);
  const network = `${name}-net`;
  const subnet = `10.88.${n}.0/24`;
  writeFileSync(path.join(confDir, '10-bench.conflist'), JSON.stringify({
    cniVersion: '1.0.0', name: network,
    plugins: [
      {
        type: 'bridge', bridge, isGateway: true, ipMasq: false, hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ipamDir },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  }, null, 2));
  const prefix = `10.88.${n}.`;
  return {
    dir, confDir, bridge, subnet,
    contains: ip => ip.startsWith(prefix) && ip !== `${prefix}0` && ip !== `${prefix}1`,
    logDir: pod => path.join(dir, 'logs', pod),
    allocatedIps: () => {
      const d = path.join(ipamDir, network);
      return existsSync(d) ? readdirSync(d).filter(f => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : [];
    },
  };
}

/** `ip link del <name>`, quietly: it may not exist. */
export function deleteLink(name: string): void {
  spawnSync('ip', ['link', 'del', name], { stdio: 'ignore', timeout: 10_000 });
}

/** The cgroup v1 hierarchies (or the v2 root) under which `/parent` may exist. */
function cgroupRoots(): string[] {
  const base = '/sys/fs/cgroup';
  if (existsSync(path.join(base, 'cgroup.controllers'))) return [base];
  try {
    return readdirSync(base).map(d => path.join(base, d)).filter(d => !d.includes(','));
  } catch {
    return [];
  }
}

/**
 * Removes the pods' cgroup parent (`/<parent>` in every hierarchy): its empty child cgroups, then itself,
 * retrying for up to `waitMs` while killed processes are still on their way out. runc removes a pod's own
 * cgroup; the parent is the benchmark's. Best effort.
 */
export function removeCgroupParent(parent: string, waitMs = 2_000): void {
  const deadline = Date.now() + waitMs;
  for (;;) {
    let busy = false;
    for (const root of cgroupRoots()) {
      const dir = path.join(root, parent);
      if (!existsSync(dir)) continue;
      for (const child of readdirSync(dir, { withFileTypes: true })) {
        if (child.isDirectory()) try { rmdirSync(path.join(dir, child.name)); } catch { busy = true; }
      }
      try { rmdirSync(dir); } catch { busy = true; }
    }
    if (!busy || Date.now() > deadline) return;
    spawnSync('sleep', ['0.1']);
  }
}

/** Registers `removeCgroupParent(parent)` in `teardown`. */
export function cleanCgroupParentAtTeardown(parent: string): void {
  const clean = (): void => removeCgroupParent(parent);
  teardown.add(`remove cgroup parent /${parent}`, async () => clean(), clean);
}

/**
 * SIGKILLs the pods a side could not remove, or that an earlier run killed with SIGKILL left: every process in
 * the pod cgroups under `/<parent>`, and every containerd shim of one of those pods (by its `-id`, which is
 * the pod cgroup's name on both sides) or serving a containerd under one of `sideDirs`. Then unmounts and
 * removes the pins in /run/netns (where containerd's CRI keeps them) that were not there at `netnsBefore` and
 * hold the network namespace of one of those processes, so another runtime's pins are never touched.
 * Meant for when no side runs pods (before they start, after they stopped): it hits everything under `/<parent>`.
 */
export function killPodLeftovers(parent: string, sideDirs: readonly string[], netnsBefore: ReadonlySet<string>): void {
  const netnsOfPods = new Set<string>();
  const ids = new Set<string>();
  for (const root of cgroupRoots()) {
    const dir = path.join(root, parent);
    if (!existsSync(dir)) continue;
    for (const child of readdirSync(dir, { withFileTypes: true })) {
      if (!child.isDirectory()) continue;
      ids.add(child.name);
      let procs = '';
      try { procs = readFileSync(path.join(dir, child.name, 'cgroup.procs'), 'utf8'); } catch { continue; }
      for (const pid of procs.split('\n').filter(Boolean)) {
        // `net:[4026532177]`: the inode a pin of the same namespace has.
        try { netnsOfPods.add(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/net`))![1]!); } catch { /* gone */ }
        killNow(Number(pid));
      }
    }
  }
  for (const pid of readdirSync('/proc').filter(p => /^\d+$/.test(p))) {
    let argv: string[];
    try { argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'); } catch { continue; }
    if (!path.basename(argv[0] ?? '').startsWith('containerd-shim')) continue;
    const id = argv[argv.indexOf('-id') + 1] ?? '';
    const address = argv[argv.indexOf('-address') + 1] ?? '';
    if (ids.has(id) || sideDirs.some(dir => address.startsWith(`${dir}/`))) killNow(Number(pid));
  }
  for (const name of netnsPins()) {
    if (netnsBefore.has(name)) continue;
    const pin = path.join('/run/netns', name);
    let ino: string;
    try { ino = String(statSync(pin).ino); } catch { continue; }
    if (!netnsOfPods.has(ino)) continue;
    spawnSync('umount', ['-l', pin], { stdio: 'ignore', timeout: 10_000 });
    rmSync(pin, { force: true });
  }
}

/** The names in /run/netns now. */
export function netnsPins(): Set<string> {
  try {
    return new Set(readdirSync('/run/netns'));
  } catch {
    return new Set();
  }
}
