import fs from 'node:fs/promises';
import path from 'node:path';
import { inject, injectable } from 'inversify';
import { cgroupsV1, cgroupsV2 } from '@crikit/api';
import { nowNs } from '@crikit/core';
import { fromCgroupV1, fromCgroupV2, type CgroupSample } from './cgroup-sample.js';
import { HostPaths } from './metrics-config.js';

/**
 * Reads a pod's cgroup (the kubelet's cgroup parent of the pod) straight from the cgroup
 * filesystem, as containerd's CRI does with the cgroups library: the per-controller files on
 * cgroup v1, the unified files on v2.
 */
@injectable()
export class PodCgroupReader {
  private unified: Promise<boolean> | undefined;

  constructor(@inject(HostPaths) private readonly paths: HostPaths) {}

  /**
   * One reading of the cgroup `parent` (`/kubepods/burstable/pod<uid>`, or a systemd slice name).
   * @returns undefined when the cgroup does not exist (the pod's cgroup is gone or was never made)
   */
  async read(parent: string): Promise<CgroupSample | undefined> {
    const rel = cgroupDir(parent);
    this.unified ??= exists(path.join(this.paths.cgroupRoot, 'cgroup.controllers'));
    return (await this.unified) ? this.readV2(rel) : this.readV1(rel);
  }

  // Only what PodSandboxStats reports (cpu usage, memory): four small reads per pod, in parallel.
  private async readV1(rel: string): Promise<CgroupSample | undefined> {
    const file = (controller: string, name: string) => readText(path.join(this.paths.cgroupRoot, controller, rel, name));
    const [usage, memUsage, memLimit, memStat] = await Promise.all([
      file('cpuacct', 'cpuacct.usage'), file('memory', 'memory.usage_in_bytes'), file('memory', 'memory.limit_in_bytes'), file('memory', 'memory.stat'),
    ]);
    if (usage === undefined && memUsage === undefined) return undefined;
    const stat = keyed(memStat);
    const metrics = cgroupsV1.Metrics.fromPartial({
      cpu: usage === undefined ? undefined : { usage: { total: num(usage) } },
      memory: memUsage === undefined ? undefined : {
        usage: { usage: num(memUsage), limit: num(memLimit) },
        totalInactiveFile: stat.total_inactive_file ?? 0n,
        totalRss: stat.total_rss ?? 0n,
        totalCache: stat.total_cache ?? 0n,
        totalMappedFile: stat.total_mapped_file ?? 0n,
        totalPgFault: stat.total_pgfault ?? 0n,
        totalPgMajFault: stat.total_pgmajfault ?? 0n,
      },
    });
    return fromCgroupV1(metrics, nowNs());
  }

  private async readV2(rel: string): Promise<CgroupSample | undefined> {
    const file = (name: string) => readText(path.join(this.paths.cgroupRoot, rel, name));
    const [cpuStat, current, max, memStat] = await Promise.all([file('cpu.stat'), file('memory.current'), file('memory.max'), file('memory.stat')]);
    if (cpuStat === undefined && current === undefined) return undefined;
    const cpu = keyed(cpuStat);
    const stat = keyed(memStat);
    const metrics = cgroupsV2.Metrics.fromPartial({
      cpu: cpuStat === undefined ? undefined : {
        usageUsec: cpu.usage_usec ?? 0n, userUsec: cpu.user_usec ?? 0n, systemUsec: cpu.system_usec ?? 0n,
        nrPeriods: cpu.nr_periods ?? 0n, nrThrottled: cpu.nr_throttled ?? 0n, throttledUsec: cpu.throttled_usec ?? 0n,
      },
      memory: current === undefined ? undefined : {
        usage: num(current), usageLimit: num(max),
        anon: stat.anon ?? 0n, file: stat.file ?? 0n, fileMapped: stat.file_mapped ?? 0n, inactiveFile: stat.inactive_file ?? 0n,
        kernelStack: stat.kernel_stack ?? 0n, slab: stat.slab ?? 0n, pgfault: stat.pgfault ?? 0n, pgmajfault: stat.pgmajfault ?? 0n,
      },
    });
    return fromCgroupV2(metrics, nowNs());
  }
}

/**
 * The cgroup directory of a parent, relative to a controller's root. A systemd slice name expands
 * to its nesting (`kubepods-burstable-pod1.slice` → `kubepods.slice/kubepods-burstable.slice/…`).
 */
export function cgroupDir(parent: string): string {
  if (parent.includes('/') || !parent.endsWith('.slice')) return parent.replace(/^\/+/, '');
  const parts = parent.slice(0, -'.slice'.length).split('-');
  return parts.map((_, i) => `${parts.slice(0, i + 1).join('-')}.slice`).join('/');
}

/** The first number of a one-value cgroup file; `max` (v2's "no limit") reads as 2^63. */
function num(text: string | undefined): bigint {
  const word = text?.trim().split(/\s+/)[0];
  if (!word) return 0n;
  if (word === 'max') return 1n << 63n;
  return /^\d+$/.test(word) ? BigInt(word) : 0n;
}

/** A `key value` per line file (memory.stat, cpu.stat, memory.events) as a map. */
export function keyed(text: string | undefined): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const line of text?.split('\n') ?? []) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value && /^\d+$/.test(value)) out[key] = BigInt(value);
  }
  return out;
}

/** A file's text, or undefined when it does not exist (a controller not mounted, a v1-only file). */
async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EOPNOTSUPP' || code === 'EINVAL') return undefined;
    throw err;
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}
