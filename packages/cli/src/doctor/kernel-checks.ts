import type { CheckResult, Host } from './host.js';
import type { DoctorOptions } from './doctor-options.js';

/** Linux capability names by bit number (linux/capability.h). */
const capNames = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE',
  'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE',
  'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
];
/** Without these crikitd cannot make pods at all (namespaces, mounts, network setup, dropping to users). */
const requiredCaps = new Set(['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'NET_ADMIN', 'NET_RAW', 'SYS_CHROOT', 'SYS_ADMIN', 'MKNOD']);

/** Controllers the kubelet and crikit's stats use, per cgroup version. */
const v1Controllers = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'devices', 'freezer', 'blkio'];
const v2Controllers = ['cpu', 'cpuset', 'memory', 'pids', 'io'];

/** cgroup version (v2 unified, hybrid, or v1) and whether the controllers pods need are enabled. */
export function checkCgroups(host: Host): CheckResult {
  const name = 'cgroups';
  const unified = host.read('/sys/fs/cgroup/cgroup.controllers');
  if (unified !== undefined) {
    // v2: the root lists what the kernel offers; subtree_control is what children get.
    const have = new Set(unified.trim().split(/\s+/).filter(Boolean));
    return controllerResult('v2', v2Controllers, have, 'boot with a kernel that has the controller (CONFIG_CGROUP_*) and enable it in cgroup.subtree_control');
  }
  const table = host.read('/proc/cgroups');
  if (table === undefined) {
    return { name, status: 'missing', required: true, detail: 'no cgroup filesystem (/sys/fs/cgroup, /proc/cgroups)', fix: 'mount cgroups (cgroupfs-mount, or boot with systemd)' };
  }
  const have = new Set(table.split('\n').filter(l => l !== '' && !l.startsWith('#')).map(l => l.split(/\s+/))
    .filter(cols => cols[3] === '1').map(cols => cols[0]!));
  const version = host.exists('/sys/fs/cgroup/unified/cgroup.controllers') ? 'v1 (hybrid: cgroup2 at /sys/fs/cgroup/unified)' : 'v1';
  return controllerResult(version, v1Controllers, have, 'boot with cgroup_enable=<controller> (e.g. cgroup_enable=memory)');
}

/**
 * On a hybrid host, controllers on the cgroup2 mount at /sys/fs/cgroup/unified (those no v1 hierarchy
 * mounts). runc ignores them; crun 1.8 refuses every container ("cgroups in hybrid mode not supported",
 * libcrun_cgroup_enter in https://github.com/containers/crun/blob/1.8.1/src/libcrun/cgroup.c). Empty on other hosts.
 */
export function checkHybridControllers(host: Host): CheckResult[] {
  if (host.exists('/sys/fs/cgroup/cgroup.controllers')) return [];
  const unified = host.read('/sys/fs/cgroup/unified/cgroup.controllers');
  if (unified === undefined) return [];
  const name = 'cgroup2 controllers (hybrid)';
  const held = unified.trim().split(/\s+/).filter(Boolean);
  return [held.length === 0
    ? { name, status: 'ok', required: false, detail: 'none on /sys/fs/cgroup/unified (crun can run containers)' }
    : { name, status: 'missing', required: false,
      detail: `/sys/fs/cgroup/unified holds ${held.join(', ')}: crun refuses every container ("cgroups in hybrid mode not supported"); runc is not affected`,
      fix: `mount each on a v1 hierarchy, as systemd's hybrid layout does: ${held.map(c => `mkdir -p /sys/fs/cgroup/${c} && mount -t cgroup -o ${c} cgroup /sys/fs/cgroup/${c}`).join('; ')}` }];
}

function controllerResult(version: string, wanted: readonly string[], have: ReadonlySet<string>, fix: string): CheckResult {
  const missing = wanted.filter(c => !have.has(c));
  return missing.length === 0
    ? { name: 'cgroups', status: 'ok', required: true, detail: `${version}; controllers ${wanted.join(', ')}` }
    : { name: 'cgroups', status: 'missing', required: true, detail: `${version}; controllers missing: ${missing.join(', ')}`, fix };
}

/**
 * The capability bounding set (CapBnd) against every capability the kernel knows (cap_last_cap). crikitd inherits
 * the same bounding set as this command when started the same way.
 */
export function checkCapabilities(host: Host, options: DoctorOptions): CheckResult {
  const name = 'capabilities';
  const status = host.read('/proc/self/status');
  const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status ?? '');
  if (bnd === null) return { name, status: 'missing', required: true, detail: 'no CapBnd in /proc/self/status', fix: 'run on Linux with /proc mounted' };
  const last = Number.parseInt(host.read('/proc/sys/kernel/cap_last_cap') ?? `${capNames.length - 1}`, 10);
  const set = BigInt(`0x${bnd[1]}`);
  const missing: string[] = [];
  for (let bit = 0; bit <= last; bit++) if ((set & (1n << BigInt(bit))) === 0n) missing.push(capNames[bit] ?? `cap_${bit}`);
  if (missing.length === 0) return { name, status: 'ok', required: true, detail: `full bounding set (${last + 1} capabilities)` };
  const required = missing.some(c => requiredCaps.has(c));
  const fixes = ['run crikitd with the full bounding set (outside a container that drops capabilities)'];
  if (missing.includes('SYS_RESOURCE')) {
    fixes.push(options.restrictOomScoreAdj ? 'runtimes.restrictOomScoreAdj is already true, so oom_score_adj is only raised'
      : 'without CAP_SYS_RESOURCE oom_score_adj can only be raised: set runtimes.restrictOomScoreAdj = true');
  }
  return { name, status: 'missing', required, detail: `bounding set lacks ${missing.map(c => `CAP_${c}`).join(', ')}`, fix: fixes.join('; ') };
}

/** AppArmor: enabled in the kernel? Without it, containers run without an AppArmor profile. */
export function checkAppArmor(host: Host): CheckResult {
  const enabled = host.read('/sys/module/apparmor/parameters/enabled')?.trim();
  return enabled === 'Y'
    ? { name: 'apparmor', status: 'ok', required: false, detail: 'enabled' }
    : { name: 'apparmor', status: 'missing', required: false,
      detail: enabled === undefined ? 'not in this kernel (optional; containers get no AppArmor profile)' : 'disabled (optional; containers get no AppArmor profile)',
      fix: 'apt-get install apparmor and boot with apparmor=1 security=apparmor' };
}

/** seccomp filters in the kernel (RuntimeDefault and Localhost profiles need them). */
export function checkSeccomp(host: Host): CheckResult {
  const hasField = /^Seccomp:/m.test(host.read('/proc/self/status') ?? '');
  const actions = host.read('/proc/sys/kernel/seccomp/actions_avail')?.trim();
  return hasField && actions !== undefined
    ? { name: 'seccomp', status: 'ok', required: false, detail: `filters available (${actions})` }
    : { name: 'seccomp', status: 'missing', required: false, detail: 'no seccomp filter support in the kernel (profiles cannot be applied)', fix: 'a kernel built with CONFIG_SECCOMP_FILTER=y (Debian\'s is)' };
}

/** User namespaces (pods with hostUsers: false). */
export function checkUserNamespaces(host: Host): CheckResult {
  const raw = host.read('/proc/sys/user/max_user_namespaces');
  const max = raw === undefined ? undefined : Number.parseInt(raw, 10);
  return max !== undefined && max > 0
    ? { name: 'user namespaces', status: 'ok', required: false, detail: `max_user_namespaces ${max}` }
    : { name: 'user namespaces', status: 'missing', required: false,
      detail: raw === undefined ? 'not in this kernel (CONFIG_USER_NS)' : 'max_user_namespaces is 0',
      fix: raw === undefined ? 'a kernel built with CONFIG_USER_NS=y' : 'sysctl -w user.max_user_namespaces=15000 (and in /etc/sysctl.d)' };
}

/** Idmapped mounts (user-namespaced pods' volumes): kernel 5.12 or newer, judged from the release. */
export function checkIdmappedMounts(host: Host): CheckResult {
  const release = host.read('/proc/sys/kernel/osrelease')?.trim() ?? '';
  const m = /^(\d+)\.(\d+)/.exec(release);
  const ok = m !== null && (Number(m[1]) > 5 || (Number(m[1]) === 5 && Number(m[2]) >= 12));
  return ok
    ? { name: 'idmapped mounts', status: 'ok', required: false, detail: `kernel ${release} (5.12 or newer)` }
    : { name: 'idmapped mounts', status: 'missing', required: false, detail: `kernel ${release || 'unknown'} is older than 5.12`, fix: 'a 5.12 or newer kernel (Debian 12 ships 6.1)' };
}
