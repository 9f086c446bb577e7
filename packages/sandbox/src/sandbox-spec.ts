import { cri } from '@crikit/api';
import { InternalError, InvalidArgumentError, passthroughAnnotations, type OciImageConfig, type SandboxId } from '@crikit/core';
import {
  cgroupsPathFor, clampOomScoreAdj, DEFAULT_CAPABILITIES, defaultLinuxSpec, groupsPolicy, mergeEnv, mergeGids, profileChoice, resolveSeccomp, resolveUser,
  supplementalGids, type CgroupDriverName, type OciNamespaceType, type OciSeccomp, type OciSpec, type SeccompNodeArch, type UserDb,
} from '@crikit/oci';

/** containerd: the oom_score_adj of a pause process, so that the kernel kills it last. */
export const SANDBOX_OOM_SCORE_ADJ = -998;
/** containerd: the cpu shares of a pause process, the minimum (it only sleeps). */
export const SANDBOX_CPU_SHARES = 2;

/** Node-wide settings that shape a sandbox spec. */
export interface SandboxSpecOptions {
  readonly cgroupDriver: CgroupDriverName;
  /** containerd's `restrict_oom_score_adj`: never go below `ownOomScoreAdj`. */
  readonly restrictOomScoreAdj: boolean;
  /** crikit's own oom_score_adj (`readOwnOomScoreAdj`); used when restricting. */
  readonly ownOomScoreAdj: number;
  /** containerd's `enable_unprivileged_ports`: default `net.ipv4.ip_unprivileged_port_start` to 0. */
  readonly unprivilegedPorts?: boolean | undefined;
  /** containerd's `enable_unprivileged_icmp`: default `net.ipv4.ping_group_range` to all groups. */
  readonly unprivilegedIcmp?: boolean | undefined;
  /** For the cgroupfs default path without a cgroup parent; `k8s.io` by default. */
  readonly containerdNamespace?: string | undefined;
  readonly arch?: SeccompNodeArch | undefined;
  /** A pod that sets no seccomp profile gets RuntimeDefault for its pause; otherwise Unconfined, as containerd. */
  readonly runtimeDefaultSeccomp?: boolean | undefined;
}

/** Everything `buildSandboxSpec` reads; the I/O (rootfs user files, the Localhost profile) is done by the caller. */
export interface SandboxSpecInput {
  readonly id: SandboxId;
  readonly config: cri.PodSandboxConfig;
  /** The pause image: the name it was asked by, and its config. */
  readonly image: { readonly name: string; readonly config: OciImageConfig };
  /** The pinned network namespace; required unless the pod uses the host network. */
  readonly netnsPath: string | undefined;
  /** The sandbox's /dev/shm mount on the host; unused with host IPC. */
  readonly shmPath: string;
  /** `/etc/passwd` and `/etc/group` of the pause image's rootfs. */
  readonly userDb: UserDb;
  /** The Localhost seccomp profile when the pod asks for one (see `localhostProfilePath`). */
  readonly localhostSeccomp?: OciSeccomp | undefined;
  /** The runtime handler's `podAnnotations`: the pod annotations allowed into the spec. None by default. */
  readonly podAnnotationPatterns?: readonly string[] | undefined;
  readonly options: SandboxSpecOptions;
}

const NODE = cri.NamespaceMode.NODE;

/**
 * The OCI spec of a sandbox's pause container, after containerd's `sandboxContainerSpec`: the pause
 * image's Entrypoint+Cmd, env and user (or the pod's run_as_user/run_as_group), a read-only rootfs,
 * the pod's hostname in a private UTS namespace, the pinned netns (or the host's network and UTS),
 * new pid/ipc namespaces unless the pod shares the node's, the sandbox's /dev/shm, sysctls, cpu
 * shares 2, oom_score_adj -998, the cgroups path under the pod's cgroup parent, the seccomp profile
 * the pod asks for (none asked: Unconfined, or RuntimeDefault with `runtimeDefaultSeccomp`), and the
 * CRI's sandbox annotations. Pure.
 * @throws InvalidArgumentError when the pause image has no command, or on a bad user or profile
 */
export function buildSandboxSpec(input: SandboxSpecInput): OciSpec {
  const { id, config, image, options } = input;
  const linux = config.linux;
  const sc = linux?.securityContext;
  const ns = sc?.namespaceOptions;
  const hostNetwork = ns?.network === NODE;
  const hostIpc = ns?.ipc === NODE;
  const privileged = sc?.privileged ?? false;

  const spec = defaultLinuxSpec({
    cgroupsPath: cgroupsPathFor(linux?.cgroupParent ?? '', id, options.cgroupDriver, options.containerdNamespace),
  });
  const process = spec.process!;
  const specLinux = spec.linux!;

  const args = [...(image.config.config.Entrypoint ?? []), ...(image.config.config.Cmd ?? [])];
  if (args.length === 0) throw new InvalidArgumentError(`sandbox image "${image.name}": no command specified`);
  process.args = args;
  process.env = mergeEnv(process.env ?? [], image.config.config.Env ?? []);
  if (image.config.config.WorkingDir) process.cwd = image.config.config.WorkingDir;
  // containerd: the CRI drops the default rlimits (containerd#515), so the pause inherits the shim's.
  delete process.rlimits;

  // containerd: run_as_user/run_as_group of the pod, else the image's User (65535 for pause).
  const user = sandboxUserString(sc) || (image.config.config.User ?? '');
  const resolved = resolveUser(user, input.userDb);
  const supplemental = supplementalGids(sc?.supplementalGroups ?? [], 'linux.security_context.supplemental_groups');
  // The pause image's /etc/group is never read, so both policies give the same groups; an unknown one is refused.
  groupsPolicy(sc?.supplementalGroupsPolicy, 'linux.security_context.supplemental_groups_policy');
  process.user = { uid: resolved.uid, gid: resolved.gid, ...(supplemental.length ? { additionalGids: mergeGids(supplemental) } : {}) };

  spec.root = { path: 'rootfs', readonly: true };
  // runc refuses a hostname without a private UTS namespace, which host-network pods do not get.
  if (!hostNetwork && config.hostname !== '') spec.hostname = checkedHostname(config.hostname);

  const dropped = new Set<OciNamespaceType>();
  if (hostNetwork) dropped.add('network').add('uts');
  if (ns?.pid === NODE) dropped.add('pid');
  if (hostIpc) dropped.add('ipc');
  specLinux.namespaces = (specLinux.namespaces ?? []).filter(n => !dropped.has(n.type)).map(n => {
    if (n.type !== 'network') return n;
    if (!input.netnsPath) throw new InternalError(`sandbox ${id}: no network namespace path for a pod network`);
    return { type: 'network', path: input.netnsPath };
  });

  // containerd: the default /dev/shm tmpfs is replaced by the sandbox's (or the host's) shm.
  spec.mounts = (spec.mounts ?? []).filter(m => m.destination !== '/dev/shm');
  spec.mounts.push({
    destination: '/dev/shm', type: 'bind', source: hostIpc ? '/dev/shm' : input.shmPath,
    options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'],
  });

  const sysctl: Record<string, string> = { ...(linux?.sysctls ?? {}) };
  if (!hostNetwork) {
    if (options.unprivilegedPorts && !('net.ipv4.ip_unprivileged_port_start' in sysctl)) sysctl['net.ipv4.ip_unprivileged_port_start'] = '0';
    if (options.unprivilegedIcmp && !('net.ipv4.ping_group_range' in sysctl)) sysctl['net.ipv4.ping_group_range'] = '0 2147483647';
  }
  if (Object.keys(sysctl).length > 0) specLinux.sysctl = sysctl;

  specLinux.resources = { ...specLinux.resources, cpu: { shares: SANDBOX_CPU_SHARES } };
  process.oomScoreAdj = options.restrictOomScoreAdj
    ? clampOomScoreAdj(SANDBOX_OOM_SCORE_ADJ, options.ownOomScoreAdj) : SANDBOX_OOM_SCORE_ADJ;

  if (privileged) {
    delete specLinux.maskedPaths;
    delete specLinux.readonlyPaths;
  }
  // As containerd: no profile asked, none given (kubelets always ask one: RuntimeDefault or Unconfined).
  const seccomp = resolveSeccomp(profileChoice(sc?.seccomp, sc?.seccompProfilePath ?? ''), {
    privileged, capabilities: DEFAULT_CAPABILITIES, whenUnset: options.runtimeDefaultSeccomp ? 'runtime-default' : 'unconfined',
    localhostProfile: input.localhostSeccomp, arch: options.arch,
  });
  if (seccomp) specLinux.seccomp = seccomp;

  spec.annotations = sandboxAnnotations(input);
  return spec;
}

/**
 * containerd's `generateUserString` for a sandbox: `uid`, `uid:gid`, or '' when the pod sets no user.
 * @throws InvalidArgumentError when a group is given without a user
 */
function sandboxUserString(sc: cri.LinuxSandboxSecurityContext | undefined): string {
  const uid = sc?.runAsUser?.value;
  const gid = sc?.runAsGroup?.value;
  if (uid === undefined) {
    if (gid !== undefined) throw new InvalidArgumentError(`sandbox run_as_group ${gid} is set without run_as_user`);
    return '';
  }
  return gid === undefined ? String(uid) : `${uid}:${gid}`;
}

/** Linux's HOST_NAME_MAX: sethostname(2) refuses a longer name, and runc then fails the pod. */
const HOST_NAME_MAX = 64;

function checkedHostname(hostname: string): string {
  const bytes = Buffer.byteLength(hostname, 'utf8');
  if (bytes > HOST_NAME_MAX) throw new InvalidArgumentError(`config.hostname is ${bytes} bytes, more than the kernel's ${HOST_NAME_MAX}`);
  if (hostname.includes('\0')) throw new InvalidArgumentError('config.hostname contains a NUL byte');
  return hostname;
}

/** CRI: the annotations a runtime puts on a sandbox's spec, for shims and NRI plugins to read. */
function sandboxAnnotations(input: SandboxSpecInput): Record<string, string> {
  const { config } = input;
  const meta = config.metadata;
  const annotations: Record<string, string> = {
    // containerd: only the pod annotations the handler allows; the CRI's own below win on a clash.
    ...passthroughAnnotations(config.annotations, input.podAnnotationPatterns ?? []),
    'io.kubernetes.cri.container-type': 'sandbox',
    'io.kubernetes.cri.sandbox-id': input.id,
    'io.kubernetes.cri.sandbox-name': meta?.name ?? '',
    'io.kubernetes.cri.sandbox-namespace': meta?.namespace ?? '',
    'io.kubernetes.cri.sandbox-uid': meta?.uid ?? '',
    'io.kubernetes.cri.sandbox-log-directory': config.logDirectory,
    'io.kubernetes.cri.image-name': input.image.name,
  };
  // containerd: the pod's summed resources, from kubelet 1.23, for VM-based runtimes to size the VM.
  const res = config.linux?.resources;
  if (res) {
    annotations['io.kubernetes.cri.sandbox-cpu-period'] = String(res.cpuPeriod);
    annotations['io.kubernetes.cri.sandbox-cpu-quota'] = String(res.cpuQuota);
    annotations['io.kubernetes.cri.sandbox-cpu-shares'] = String(res.cpuShares);
    annotations['io.kubernetes.cri.sandbox-memory'] = String(res.memoryLimitInBytes);
  }
  return annotations;
}
