import { cgroupsV1, cgroupsV2, unpackAny, type Any } from '@crikit/api';

/** A cgroup's memory figures, in bytes (page faults are counts). */
export interface MemorySample {
  readonly usageBytes: bigint;
  /** usage − inactive file pages (what the kubelet's eviction reads); never below 0. */
  readonly workingSetBytes: bigint;
  /** The memory limit; undefined when unlimited. */
  readonly limitBytes: bigint | undefined;
  /** Anonymous memory: total_rss on v1, anon on v2 (as cAdvisor). */
  readonly rssBytes: bigint;
  /** Page cache: total_cache on v1, file on v2. */
  readonly cacheBytes: bigint;
  readonly mappedFileBytes: bigint;
  readonly maxUsageBytes: bigint;
  /** How often usage hit the limit (v1 failcnt; v2 the `max` memory event). */
  readonly failcnt: bigint;
  readonly kernelBytes: bigint;
  readonly pageFaults: bigint;
  readonly majorPageFaults: bigint;
}

/** A cgroup's cumulative CPU figures, in nanoseconds (periods are counts). */
export interface CpuSample {
  readonly usageNs: bigint;
  readonly userNs: bigint;
  readonly systemNs: bigint;
  readonly periods: bigint;
  readonly throttledPeriods: bigint;
  readonly throttledNs: bigint;
}

/** Pressure stall information of one resource (cgroup v2 only): stall time in ns and the kernel's averages. */
export interface PressureSample {
  readonly some: PressureData | undefined;
  readonly full: PressureData | undefined;
}
/** One line of a `*.pressure` file. */
export interface PressureData {
  readonly totalNs: bigint;
  readonly avg10: number;
  readonly avg60: number;
  readonly avg300: number;
}

/**
 * One reading of a cgroup, the same whether it came from cgroup v1 or v2, from containerd's task
 * metrics or from the cgroup files. A part is undefined when its controller reported nothing.
 */
export interface CgroupSample {
  /** When it was read, in nanoseconds since the epoch. */
  readonly timestampNs: bigint;
  readonly cpu: CpuSample | undefined;
  readonly memory: MemorySample | undefined;
  /** Swap in use and its limit (undefined when unlimited). */
  readonly swap: { readonly usageBytes: bigint; readonly limitBytes: bigint | undefined } | undefined;
  /** Processes (tasks) in the cgroup. */
  readonly pids: bigint | undefined;
  /** Processes the OOM killer killed in the cgroup. */
  readonly oomKills: bigint | undefined;
  /** Pressure stall information (cgroup v2 with PSI); absent on cgroup v1. */
  readonly psi?: { readonly cpu?: PressureSample | undefined; readonly memory?: PressureSample | undefined; readonly io?: PressureSample | undefined } | undefined;
}

/** The kernel reports "no limit" as a huge number rounded to pages; above 2^62 means unlimited (as cAdvisor). */
export function limitOrUndefined(value: bigint): bigint | undefined {
  return value === 0n || value > 1n << 62n ? undefined : value;
}

/** `a − b`, or 0 when b ≥ a (counters read at slightly different moments must not go negative). */
export function minusFloor(a: bigint, b: bigint): bigint {
  return a > b ? a - b : 0n;
}

/** The type URLs containerd's runc shim packs task metrics under. */
export const cgroupV1MetricsType = 'io.containerd.cgroups.v1.Metrics';
export const cgroupV2MetricsType = 'io.containerd.cgroups.v2.Metrics';

/**
 * Decodes the `Any` of one containerd task metric (`Tasks.Metrics`), cgroup v1 or v2.
 * @returns undefined when the Any holds another type (a Windows or VM runtime's metrics)
 */
export function decodeTaskMetrics(data: Any | undefined, timestampNs: bigint): CgroupSample | undefined {
  const v1 = unpackAny(data, cgroupV1MetricsType, cgroupsV1.Metrics);
  if (v1) return fromCgroupV1(v1, timestampNs);
  const v2 = unpackAny(data, cgroupV2MetricsType, cgroupsV2.Metrics);
  if (v2) return fromCgroupV2(v2, timestampNs);
  return undefined;
}

/** A cgroup v1 reading. Memory figures are the hierarchical `total_*` ones, as containerd's CRI reads them. */
export function fromCgroupV1(m: cgroupsV1.Metrics, timestampNs: bigint): CgroupSample {
  const mem = m.memory;
  const usage = mem?.usage;
  const memory: MemorySample | undefined = mem && usage ? {
    usageBytes: usage.usage,
    workingSetBytes: minusFloor(usage.usage, mem.totalInactiveFile),
    limitBytes: limitOrUndefined(usage.limit),
    rssBytes: mem.totalRss,
    cacheBytes: mem.totalCache,
    mappedFileBytes: mem.totalMappedFile,
    maxUsageBytes: usage.max,
    failcnt: usage.failcnt,
    kernelBytes: mem.kernel?.usage ?? 0n,
    pageFaults: mem.totalPgFault,
    majorPageFaults: mem.totalPgMajFault,
  } : undefined;
  // v1's swap entry is memsw: memory and swap together.
  const memsw = mem?.swap;
  const swap = memory && memsw && memsw.usage > 0n ? {
    usageBytes: minusFloor(memsw.usage, memory.usageBytes),
    limitBytes: limitOrUndefined(memsw.limit) !== undefined && memory.limitBytes !== undefined ? minusFloor(memsw.limit, memory.limitBytes) : undefined,
  } : undefined;
  const cpu = m.cpu?.usage ? {
    usageNs: m.cpu.usage.total,
    userNs: m.cpu.usage.user,
    systemNs: m.cpu.usage.kernel,
    periods: m.cpu.throttling?.periods ?? 0n,
    throttledPeriods: m.cpu.throttling?.throttledPeriods ?? 0n,
    throttledNs: m.cpu.throttling?.throttledTime ?? 0n,
  } : undefined;
  return { timestampNs, cpu, memory, swap, pids: m.pids?.current, oomKills: m.memoryOomControl?.oomKill };
}

/** A cgroup v2 reading (microsecond CPU figures become nanoseconds). */
export function fromCgroupV2(m: cgroupsV2.Metrics, timestampNs: bigint): CgroupSample {
  const mem = m.memory;
  const memory: MemorySample | undefined = mem ? {
    usageBytes: mem.usage,
    workingSetBytes: minusFloor(mem.usage, mem.inactiveFile),
    limitBytes: limitOrUndefined(mem.usageLimit),
    rssBytes: mem.anon,
    cacheBytes: mem.file,
    mappedFileBytes: mem.fileMapped,
    maxUsageBytes: mem.maxUsage,
    failcnt: m.memoryEvents?.max ?? 0n,
    kernelBytes: mem.kernelStack + mem.slab,
    pageFaults: mem.pgfault,
    majorPageFaults: mem.pgmajfault,
  } : undefined;
  const swap = mem ? { usageBytes: mem.swapUsage, limitBytes: limitOrUndefined(mem.swapLimit) } : undefined;
  const cpu = m.cpu ? {
    usageNs: m.cpu.usageUsec * 1000n,
    userNs: m.cpu.userUsec * 1000n,
    systemNs: m.cpu.systemUsec * 1000n,
    periods: m.cpu.nrPeriods,
    throttledPeriods: m.cpu.nrThrottled,
    throttledNs: m.cpu.throttledUsec * 1000n,
  } : undefined;
  const psi = { cpu: pressure(m.cpu?.psi), memory: pressure(mem?.psi), io: pressure(m.io?.psi) };
  return {
    timestampNs, cpu, memory, swap, pids: m.pids?.current, oomKills: m.memoryEvents?.oomKill,
    psi: psi.cpu || psi.memory || psi.io ? psi : undefined,
  };
}

/** v2 PSI as the shim reports it; totals are microseconds, CRI wants nanoseconds (as containerd converts them). */
function pressure(p: cgroupsV2.PSIStats | undefined): PressureSample | undefined {
  if (!p) return undefined;
  const data = (d: cgroupsV2.PSIData | undefined): PressureData | undefined =>
    d ? { totalNs: d.total * 1000n, avg10: d.avg10, avg60: d.avg60, avg300: d.avg300 } : undefined;
  return { some: data(p.some), full: data(p.full) };
}
