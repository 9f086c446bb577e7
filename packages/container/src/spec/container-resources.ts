import type { cri } from '@crikit/api';
import { FailedPreconditionError, InvalidArgumentError } from '@crikit/core';
import { type OciCpu, type OciMemory, type OciResources } from '@crikit/oci';

/** Node facts that decide which limits can be applied. */
export interface ResourceContext {
  readonly cgroupVersion: 1 | 2;
  readonly swapControllerAvailable: boolean;
  readonly hugetlbControllerAvailable: boolean;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A CRI int64 as a spec number.
 * @throws InvalidArgumentError beyond 2^53, which no real limit reaches
 */
function num(value: bigint, field: string): number {
  if (value > MAX_SAFE || value < -MAX_SAFE) throw new InvalidArgumentError(`${field} ${value} is out of range`);
  return Number(value);
}

/**
 * The cgroup limits of a container from CRI `LinuxContainerResources` (containerd's `WithResources`).
 * A zero or empty CRI field means "not set" and leaves the spec's field out:
 * - cpu: shares, quota, period (µs), cpuset cpus and mems;
 * - memory: the limit; swap (memory+swap) is the CRI's memory_swap_limit_in_bytes, or equal to the
 *   limit when only a limit is set (no swap by default), and only when the swap controller exists;
 * - hugepage limits, only when the hugetlb controller exists (containerd tolerates its absence);
 * - `unified` (cgroup v2 keys such as `memory.high`), refused on cgroup v1.
 * oom_score_adj is a process field, set by `containerProcess`.
 * @throws FailedPreconditionError for `unified` on cgroup v1, InvalidArgumentError for an out-of-range value
 */
export function containerResources(resources: cri.LinuxContainerResources | undefined, context: ResourceContext): OciResources {
  if (!resources) return {};
  const out: OciResources = {};

  const cpu: OciCpu = {};
  if (resources.cpuShares !== 0n) cpu.shares = num(resources.cpuShares, 'cpu_shares');
  if (resources.cpuQuota !== 0n) cpu.quota = num(resources.cpuQuota, 'cpu_quota');
  if (resources.cpuPeriod !== 0n) cpu.period = num(resources.cpuPeriod, 'cpu_period');
  if (resources.cpusetCpus !== '') cpu.cpus = resources.cpusetCpus;
  if (resources.cpusetMems !== '') cpu.mems = resources.cpusetMems;
  if (Object.keys(cpu).length > 0) out.cpu = cpu;

  const memory: OciMemory = {};
  if (resources.memoryLimitInBytes !== 0n) memory.limit = num(resources.memoryLimitInBytes, 'memory_limit_in_bytes');
  if (context.swapControllerAvailable) {
    if (resources.memorySwapLimitInBytes !== 0n) memory.swap = num(resources.memorySwapLimitInBytes, 'memory_swap_limit_in_bytes');
    // containerd: swap equal to the limit keeps a limited container from swapping by default.
    else if (memory.limit !== undefined) memory.swap = memory.limit;
  }
  if (Object.keys(memory).length > 0) out.memory = memory;

  if (resources.hugepageLimits.length > 0 && context.hugetlbControllerAvailable) {
    out.hugepageLimits = resources.hugepageLimits.map(h => ({ pageSize: h.pageSize, limit: num(h.limit, `hugepage limit ${h.pageSize}`) }));
  }

  const unified = Object.entries(resources.unified);
  if (unified.length > 0) {
    if (context.cgroupVersion !== 2) {
      throw new FailedPreconditionError(`unified resources (${unified.map(([k]) => k).join(', ')}) need cgroup v2`);
    }
    out.unified = Object.fromEntries(unified);
  }
  return out;
}
