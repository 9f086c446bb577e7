import { InvalidArgumentError } from '@crikit/core';

/** Sysctls that live in the IPC namespace (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*). */
const ipcSysctl = /^(kernel\.(shm_rmid_forced|shmall|shmmax|shmmni|msgmax|msgmnb|msgmni|sem)|fs\.mqueue\..+)$/;
/** Sysctls that live in the network namespace. */
const netSysctl = /^net\..+/;

/**
 * Checks the pod's sysctls the way the kubelet and runc would: only namespaced ones, and only in a
 * namespace the pod does not share with the host. Accepts the `/` separator too (`net/ipv4/…`).
 * @returns the sysctls with `.` separators
 * @throws InvalidArgumentError naming the first sysctl refused and why
 */
export function checkSysctls(sysctls: Readonly<Record<string, string>>, pod: { hostNetwork: boolean; hostIpc: boolean; what: string }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [raw, value] of Object.entries(sysctls)) {
    const name = raw.includes('/') ? raw.replaceAll('/', '.') : raw;
    if (ipcSysctl.test(name)) {
      if (pod.hostIpc) throw new InvalidArgumentError(`${pod.what}: sysctl "${raw}" is not allowed with host IPC`);
    } else if (netSysctl.test(name)) {
      if (pod.hostNetwork) throw new InvalidArgumentError(`${pod.what}: sysctl "${raw}" is not allowed with host network`);
    } else {
      throw new InvalidArgumentError(`${pod.what}: sysctl "${raw}" is not namespaced and cannot be set for a pod`);
    }
    out[name] = value;
  }
  return out;
}

/** A sysctl of one network interface (`net.ipv4.conf.eth0.…`, `net.ipv6.neigh.eth0.…`), not `all`/`default`. */
const interfaceSysctl = /^net\.ipv[46]\.(conf|neigh)\.(?!all\.|default\.)[^.]+\./;

/**
 * Whether any of the (checked, `.`-separated) sysctls names a network interface: runc can set it only
 * once CNI has made that interface in the pod's netns.
 */
export function namesInterface(sysctls: Readonly<Record<string, string>>): boolean {
  return Object.keys(sysctls).some(name => interfaceSysctl.test(name));
}
