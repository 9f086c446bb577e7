/**
 * The OCI runtime spec (github.com/opencontainers/runtime-spec, config.md and config-linux.md):
 * the subset that runc on Linux reads and crikit writes. Field names are the JSON names, so a spec
 * serialises as is (see `toSpecAny`). Integers are `number`: every value crikit sets (memory in
 * bytes, cpu quota, seccomp arguments) stays below 2^53.
 */
export interface OciSpec {
  ociVersion: string;
  process?: OciProcess;
  root?: OciRoot;
  hostname?: string;
  mounts?: OciMount[];
  annotations?: Record<string, string>;
  hooks?: OciHooks;
  linux?: OciLinux;
}

/** The version of the runtime spec crikit's specs follow. */
export const OCI_VERSION = '1.1.0';

/** `process`: what runc executes as the container's init. */
export interface OciProcess {
  terminal?: boolean;
  user: OciUser;
  args: string[];
  env?: string[];
  cwd: string;
  capabilities?: OciCapabilities;
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
}

/** `process.user`: numeric ids only; names are resolved before the spec is written. */
export interface OciUser {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
}

/** `process.capabilities`: names carry the `CAP_` prefix. */
export interface OciCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

/** One `process.rlimits` entry, e.g. `{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }`. */
export interface OciRlimit {
  type: string;
  hard: number;
  soft: number;
}

/** One hook: a host program the runtime runs at a point of the container's life, given its state on stdin. */
export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  /** Seconds before the runtime gives up on it. */
  timeout?: number;
}

/** `hooks`, by the point they run at (config.md#posix-platform-hooks); `prestart` is deprecated for `createRuntime`. */
export interface OciHooks {
  prestart?: OciHook[];
  createRuntime?: OciHook[];
  createContainer?: OciHook[];
  startContainer?: OciHook[];
  poststart?: OciHook[];
  poststop?: OciHook[];
}

/** `root`: the rootfs, relative to the bundle (containerd mounts it at `<bundle>/rootfs`). */
export interface OciRoot {
  path: string;
  readonly?: boolean;
}

/** One `mounts` entry; `options` are mount(8) options plus runc's (`rbind`, `rprivate`, `rro`, …). */
export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
  /** runtime-spec 1.1 idmapped mount: uids of the file system as the container's user namespace sees them. */
  uidMappings?: OciIdMapping[];
  gidMappings?: OciIdMapping[];
}

/** The kinds of namespace a Linux container can be given (`linux.namespaces[].type`). */
export type OciNamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';

/** One `linux.namespaces` entry: without `path` a new namespace, with it the namespace to join. */
export interface OciNamespace {
  type: OciNamespaceType;
  path?: string;
}

/** One `linux.uidMappings`/`gidMappings` entry. */
export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** One `linux.devices` entry: a device node runc creates in the container. */
export interface OciDevice {
  type: 'c' | 'b' | 'u' | 'p';
  path: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** One `linux.resources.devices` rule; a missing major/minor/type matches all. */
export interface OciDeviceCgroup {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access?: string;
}

/** `linux.resources.memory`, in bytes; `swap` is memory+swap (-1 for unlimited). */
export interface OciMemory {
  limit?: number;
  reservation?: number;
  swap?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
}

/** `linux.resources.cpu`: cfs shares/quota/period (µs) and cpusets (`"0-3,6"`). */
export interface OciCpu {
  shares?: number;
  quota?: number;
  period?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}

/** One `linux.resources.hugepageLimits` entry (`pageSize` like `"2MB"`). */
export interface OciHugepageLimit {
  pageSize: string;
  limit: number;
}

/** One `linux.resources.blockIO.weightDevice` entry. */
export interface OciWeightDevice {
  major: number;
  minor: number;
  weight?: number;
  leafWeight?: number;
}

/** `linux.resources.blockIO`. */
export interface OciBlockIo {
  weight?: number;
  leafWeight?: number;
  weightDevice?: OciWeightDevice[];
}

/** `linux.resources`: the cgroup settings runc applies. `unified` is cgroup v2 only. */
export interface OciResources {
  devices?: OciDeviceCgroup[];
  memory?: OciMemory;
  cpu?: OciCpu;
  pids?: { limit: number };
  blockIO?: OciBlockIo;
  hugepageLimits?: OciHugepageLimit[];
  unified?: Record<string, string>;
}

/** The actions a seccomp rule can take (libseccomp names). */
export type OciSeccompAction =
  | 'SCMP_ACT_KILL' | 'SCMP_ACT_KILL_PROCESS' | 'SCMP_ACT_KILL_THREAD' | 'SCMP_ACT_TRAP' | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE' | 'SCMP_ACT_ALLOW' | 'SCMP_ACT_LOG' | 'SCMP_ACT_NOTIFY';

/** The comparison operators of a seccomp argument filter. */
export type OciSeccompOperator =
  | 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';

/** One argument filter of a seccomp rule. */
export interface OciSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: OciSeccompOperator;
}

/** One `linux.seccomp.syscalls` rule. */
export interface OciSyscall {
  names: string[];
  action: OciSeccompAction;
  errnoRet?: number;
  args?: OciSeccompArg[];
}

/** `linux.seccomp`: a filter runc loads before exec. */
export interface OciSeccomp {
  defaultAction: OciSeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: OciSyscall[];
}

/** `linux`: everything Linux-specific. */
export interface OciLinux {
  namespaces?: OciNamespace[];
  uidMappings?: OciIdMapping[];
  gidMappings?: OciIdMapping[];
  devices?: OciDevice[];
  cgroupsPath?: string;
  resources?: OciResources;
  sysctl?: Record<string, string>;
  seccomp?: OciSeccomp;
  rootfsPropagation?: 'private' | 'rprivate' | 'slave' | 'rslave' | 'shared' | 'rshared' | 'unbindable' | 'runbindable';
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
}
