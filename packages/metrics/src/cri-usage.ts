import type { cri } from '@crikit/api';
import { minusFloor, type CgroupSample, type PressureData, type PressureSample } from './cgroup-sample.js';
import type { InterfaceCounters } from './net-dev.js';
import type { LayerUsage } from './writable-layer-usage.js';

const u64 = (value: bigint): cri.UInt64Value => ({ value });

/** CRI CpuUsage of a sample; `nanoCores` is left out until a rate is known (as containerd and cAdvisor). */
export function toCpuUsage(sample: CgroupSample | undefined, nanoCores: bigint | undefined): cri.CpuUsage | undefined {
  if (!sample?.cpu) return undefined;
  return {
    timestamp: sample.timestampNs,
    usageCoreNanoSeconds: u64(sample.cpu.usageNs),
    usageNanoCores: nanoCores === undefined ? undefined : u64(nanoCores),
    psi: toPsi(sample.psi?.cpu),
  };
}

/**
 * CRI MemoryUsage of a sample. `available_bytes` is limit − working set, 0 without a limit (the
 * kubelet's rule, which containerd follows).
 */
export function toMemoryUsage(sample: CgroupSample | undefined): cri.MemoryUsage | undefined {
  const m = sample?.memory;
  if (!sample || !m) return undefined;
  return {
    timestamp: sample.timestampNs,
    workingSetBytes: u64(m.workingSetBytes),
    availableBytes: u64(m.limitBytes === undefined ? 0n : minusFloor(m.limitBytes, m.workingSetBytes)),
    usageBytes: u64(m.usageBytes),
    rssBytes: u64(m.rssBytes),
    pageFaults: u64(m.pageFaults),
    majorPageFaults: u64(m.majorPageFaults),
    psi: toPsi(sample.psi?.memory),
  };
}

/** CRI IoUsage of a sample: only pressure, so only on cgroup v2 with PSI (as containerd). */
export function toIoUsage(sample: CgroupSample | undefined): cri.IoUsage | undefined {
  if (!sample?.psi?.io) return undefined;
  return { timestamp: sample.timestampNs, psi: toPsi(sample.psi.io) };
}

function toPsi(p: PressureSample | undefined): cri.PsiStats | undefined {
  if (!p) return undefined;
  const data = (d: PressureData | undefined): cri.PsiData | undefined => (d ? { Total: d.totalNs, Avg10: d.avg10, Avg60: d.avg60, Avg300: d.avg300 } : undefined);
  return { Full: data(p.full), Some: data(p.some) };
}

/** CRI SwapUsage of a sample; available is the limit's headroom, 0 without a limit. */
export function toSwapUsage(sample: CgroupSample | undefined): cri.SwapUsage | undefined {
  if (!sample?.swap) return undefined;
  const { usageBytes, limitBytes } = sample.swap;
  return {
    timestamp: sample.timestampNs,
    swapUsageBytes: u64(usageBytes),
    swapAvailableBytes: u64(limitBytes === undefined ? 0n : minusFloor(limitBytes, usageBytes)),
  };
}

/** CRI FilesystemUsage of a writable layer; zero figures when it was never measured (as containerd). */
export function toLayerUsage(layer: LayerUsage | undefined, mountpoint: string, nowNs: bigint): cri.FilesystemUsage {
  return {
    timestamp: layer?.timestampNs ?? nowNs,
    fsId: { mountpoint },
    usedBytes: u64(layer?.usedBytes ?? 0n),
    inodesUsed: u64(layer?.inodesUsed ?? 0n),
  };
}

/** The default interface is `eth0`, else the first one (containerd's rule). */
export const defaultInterfaceName = 'eth0';

/** CRI NetworkUsage of a pod's interfaces. */
export function toNetworkUsage(interfaces: readonly InterfaceCounters[], timestampNs: bigint): cri.NetworkUsage {
  const usages = interfaces.map((i): cri.NetworkInterfaceUsage => ({
    name: i.name, rxBytes: u64(i.rxBytes), rxErrors: u64(i.rxErrors), txBytes: u64(i.txBytes), txErrors: u64(i.txErrors),
  }));
  return {
    timestamp: timestampNs,
    defaultInterface: usages.find(u => u.name === defaultInterfaceName) ?? usages[0],
    interfaces: usages,
  };
}

/** The sum of several samples of one instant (a pod without its own cgroup: pause plus containers). */
export function sumSamples(samples: readonly (CgroupSample | undefined)[], timestampNs: bigint): CgroupSample | undefined {
  const present = samples.filter((s): s is CgroupSample => s !== undefined);
  if (present.length === 0) return undefined;
  const add = <T extends object>(parts: (T | undefined)[]): T | undefined => {
    const have = parts.filter((p): p is T => p !== undefined);
    if (have.length === 0) return undefined;
    const out: Record<string, bigint | undefined> = {};
    for (const key of Object.keys(have[0]!)) {
      const values = have.map(p => (p as Record<string, bigint | undefined>)[key]);
      // A limit is per cgroup; a sum of limits means nothing, so the sum has none.
      out[key] = key === 'limitBytes' ? undefined : values.reduce<bigint>((a, v) => a + (v ?? 0n), 0n);
    }
    return out as T;
  };
  const pids = present.some(s => s.pids !== undefined) ? present.reduce((a, s) => a + (s.pids ?? 0n), 0n) : undefined;
  const oomKills = present.some(s => s.oomKills !== undefined) ? present.reduce((a, s) => a + (s.oomKills ?? 0n), 0n) : undefined;
  return {
    timestampNs,
    cpu: add(present.map(s => s.cpu)),
    memory: add(present.map(s => s.memory)),
    swap: add(present.map(s => s.swap)),
    pids,
    oomKills,
  };
}
