import fs from 'node:fs/promises';
import os from 'node:os';
import { boundingCapabilitiesOf, knownCapabilities, readOwnOomScoreAdj } from '@crikit/oci';

/** What this node can do, detected once: container specs depend on it. Detected, never assumed. */
export interface HostFacts {
  readonly cgroupVersion: 1 | 2;
  readonly hasAppArmor: boolean;
  readonly swapControllerAvailable: boolean;
  readonly hugetlbControllerAvailable: boolean;
  readonly ownOomScoreAdj: number;
  readonly hostname: string;
  /**
   * crikitd's bounding set (CapBnd of /proc/self/status): what its containerd and runc, as root
   * children, can grant. Privileged containers and `add: [ALL]` get exactly these.
   */
  readonly boundingCapabilities: readonly string[];
}

const exists = (p: string): Promise<boolean> => fs.access(p).then(() => true, () => false);

/**
 * Reads the host: cgroup v1 or v2 (a cgroup2 root at /sys/fs/cgroup), AppArmor, controllers,
 * crikit's oom_score_adj and bounding set (every capability the kernel knows when /proc/self/status
 * cannot be read).
 */
export async function detectHostFacts(): Promise<HostFacts> {
  const v2 = await exists('/sys/fs/cgroup/cgroup.controllers');
  const controllers = v2 ? (await fs.readFile('/sys/fs/cgroup/cgroup.controllers', 'utf8').catch(() => '')).split(/\s+/) : [];
  const lastCap = Number((await fs.readFile('/proc/sys/kernel/cap_last_cap', 'utf8').catch(() => '')).trim());
  return {
    cgroupVersion: v2 ? 2 : 1,
    hasAppArmor: (await fs.readFile('/sys/module/apparmor/parameters/enabled', 'utf8').catch(() => 'N')).trim() === 'Y',
    swapControllerAvailable: v2 ? await exists('/sys/fs/cgroup/memory.swap.max').catch(() => false) || controllers.includes('memory')
      : await exists('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes'),
    hugetlbControllerAvailable: v2 ? controllers.includes('hugetlb') : await exists('/sys/fs/cgroup/hugetlb'),
    ownOomScoreAdj: await readOwnOomScoreAdj(),
    hostname: os.hostname(),
    boundingCapabilities: boundingCapabilitiesOf(await fs.readFile('/proc/self/status', 'utf8').catch(() => ''))
      ?? knownCapabilities(Number.isInteger(lastCap) ? lastCap : undefined),
  };
}
