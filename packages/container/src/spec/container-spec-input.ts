import type { cri } from '@crikit/api';
import type { ContainerId, OciImageConfig, SandboxId } from '@crikit/core';
import type { CgroupDriverName, OciRlimit, OciSeccomp, SeccompNodeArch, UserDb } from '@crikit/oci';
import type { UsernsSupport } from './container-userns.js';

/** What a container's spec needs to know about the sandbox it joins. */
export interface PodSandboxContext {
  readonly id: SandboxId;
  /** The config RunPodSandbox was called with: metadata, hostname, cgroup parent, security context. */
  readonly config: cri.PodSandboxConfig;
  /** Host pid of the sandbox's pause process, whose ipc/uts/pid namespaces the container joins. */
  readonly pid: number;
  /** The pinned network namespace; undefined for host-network pods. */
  readonly netnsPath: string | undefined;
  /** The files the sandbox prepared on the host, bind-mounted into each of its containers. */
  readonly files: {
    /** undefined when the sandbox has no hostname file (containerd mounts it only when it exists). */
    readonly hostname?: string | undefined;
    readonly hosts: string;
    readonly resolvConf: string;
    /** The sandbox's /dev/shm; unused when the pod shares the host's IPC namespace. */
    readonly shm: string;
  };
}

/** A device node on the host, as `stat(2)` describes it. */
export interface HostDevice {
  /** Its path on the host (symlinks resolved). */
  readonly path: string;
  /** `c` character, `b` block, `p` fifo. */
  readonly type: 'c' | 'b' | 'p';
  readonly major: number;
  readonly minor: number;
  /** Permission bits (`st_mode & 07777`). */
  readonly fileMode: number;
  readonly uid: number;
  readonly gid: number;
}

/** Device lookups on the host, injected so that spec building stays pure. */
export interface HostDevices {
  /**
   * The device node at `path`, or every node below it when it is a directory (containerd's
   * `getDevices`).
   * @throws NotFoundError when nothing is there, InvalidArgumentError when it is not a device
   */
  lookup(path: string): readonly HostDevice[];
  /** Every device node under the host's /dev, which privileged containers get. */
  all(): readonly HostDevice[];
}

/** Node-wide settings that shape every container spec. */
export interface ContainerSpecOptions {
  readonly cgroupDriver: CgroupDriverName;
  readonly cgroupVersion: 1 | 2;
  /** containerd's `restrict_oom_score_adj`: never go below `ownOomScoreAdj`. */
  readonly restrictOomScoreAdj: boolean;
  /** crikit's own oom_score_adj (core's `readOwnOomScoreAdj`). */
  readonly ownOomScoreAdj: number;
  /** Whether the host kernel has AppArmor enabled; without it no profile is set (and none may be asked for). */
  readonly hostHasAppArmor: boolean;
  /** The loaded AppArmor profile RuntimeDefault means; without one, RuntimeDefault leaves the container unconfined. */
  readonly appArmorDefaultProfile?: string | undefined;
  /** What an unset seccomp profile means: true for RuntimeDefault (kubelet's SeccompDefault), false for Unconfined. */
  readonly runtimeDefaultSeccomp: boolean;
  /** Where relative Localhost seccomp refs are looked up (see `containerSeccompProfilePath`). */
  readonly seccompProfileRoot?: string | undefined;
  /** Whether the pod's runtime handler supports `rro` mounts (its binary's `features` list them and the kernel is ≥ 5.12). */
  readonly supportsRecursiveReadOnly: boolean;
  /** Whether the memory cgroup can limit swap (memory.memsw / memory.swap.max exists). */
  readonly swapControllerAvailable: boolean;
  /** Whether the hugetlb cgroup controller exists; without it hugepage limits are skipped, as containerd tolerates. */
  readonly hugetlbControllerAvailable: boolean;
  /** The node's hostname, for the HOSTNAME variable of pods whose config sets none. */
  readonly nodeHostname: string;
  /** containerd's `device_ownership_from_security_context`: devices owned by run_as_user/run_as_group. */
  readonly deviceOwnershipFromSecurityContext?: boolean | undefined;
  /** rlimits to set; none by default, so containers inherit the shim's (containerd's CRI drops the defaults). */
  readonly rlimits?: readonly OciRlimit[] | undefined;
  /**
   * The capabilities the runtime holds (crikitd's bounding set, `HostFacts.boundingCapabilities`):
   * privileged containers and `add: [ALL]` get exactly these, and naming another is refused. All of
   * core's list by default.
   */
  readonly hostCapabilities?: readonly string[] | undefined;
  /** For the cgroupfs default path without a cgroup parent; `k8s.io` by default. */
  readonly containerdNamespace?: string | undefined;
  readonly arch?: SeccompNodeArch | undefined;
  /** What the pod's handler can do for user namespaces and idmapped mounts; nothing by default. */
  readonly userns?: UsernsSupport | undefined;
}

/** Everything `buildContainerSpec` reads. All I/O (stat, file reads) is done by the caller beforehand. */
export interface ContainerSpecInput {
  readonly id: ContainerId;
  /** The config CreateContainer was called with. */
  readonly config: cri.ContainerConfig;
  /** The image: the name it is known by (for the image-name annotation) and its config. */
  readonly image: { readonly name: string; readonly config: OciImageConfig };
  readonly sandbox: PodSandboxContext;
  /** `/etc/passwd` and `/etc/group` of the container's rootfs. */
  readonly userDb: UserDb;
  readonly devices: HostDevices;
  /** The Localhost seccomp profile, loaded by the caller when the config asks for one. */
  readonly localhostSeccomp?: OciSeccomp | undefined;
  /** Host pid of the target container, for pid namespace mode TARGET. */
  readonly targetPid?: number | undefined;
  /** The runtime handler's allow-lists of pod and container annotations for the spec; none by default. */
  readonly annotationPatterns?: { readonly pod: readonly string[]; readonly container: readonly string[] } | undefined;
  readonly options: ContainerSpecOptions;
}
