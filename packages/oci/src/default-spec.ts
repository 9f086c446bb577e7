import { DEFAULT_CAPABILITIES, capabilitySets } from './capabilities.js';
import { OCI_VERSION, type OciDeviceCgroup, type OciMount, type OciNamespace, type OciSpec } from './oci-spec.js';

/** containerd: the PATH a process gets when neither the image nor the CRI sets one. */
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Paths runc masks (bind-mounts /dev/null or an empty tmpfs over) unless the container is privileged. */
export const DEFAULT_MASKED_PATHS: readonly string[] = Object.freeze([
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/sys/devices/virtual/powercap', '/proc/scsi',
]);

/** Paths runc remounts read-only unless the container is privileged. */
export const DEFAULT_READONLY_PATHS: readonly string[] = Object.freeze([
  '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger',
]);

/**
 * The device cgroup rules of an unprivileged container: deny everything, then allow mknod of any
 * node (creating one is harmless, opening it is what the rules guard) and the standard character
 * devices runc creates in every container.
 */
export const DEFAULT_DEVICE_RULES: readonly Readonly<OciDeviceCgroup>[] = Object.freeze([
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },   // /dev/null
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },   // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },   // /dev/full
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },   // /dev/tty
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },   // /dev/random
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },   // /dev/urandom
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },   // /dev/console
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },   // /dev/ptmx
  { allow: true, type: 'c', major: 136, access: 'rwm' },           // /dev/pts/*
] as OciDeviceCgroup[]);

/**
 * The kernel file systems every container gets. containerd's CRI removes the default `/run` tmpfs
 * (the image owns /run), so there is none here.
 */
export function defaultMounts(): OciMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts', type: 'devpts', source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  ];
}

/**
 * The cgroup file system at /sys/fs/cgroup, read-only as docker does, writable for privileged
 * containers (containerd: `WithMounts` adds it, `WithWriteableCgroupfs` flips it for privileged ones).
 */
export function cgroupMount(options: { readonly writable: boolean }): OciMount {
  return {
    destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup',
    options: ['nosuid', 'noexec', 'nodev', 'relatime', options.writable ? 'rw' : 'ro'],
  };
}

/** The namespaces of a container that shares nothing: pid, ipc, uts, mount and network. */
export function defaultNamespaces(): OciNamespace[] {
  return [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }];
}

/** What `defaultLinuxSpec` may be told. */
export interface DefaultSpecOptions {
  /** `linux.cgroupsPath`; containerd defaults it to `/<namespace>/<id>`. Omitted when undefined. */
  readonly cgroupsPath?: string | undefined;
}

/**
 * A fresh default Linux spec, as containerd's `populateDefaultUnixSpec` writes it, for the CRI
 * builders to refine: root `rootfs` (relative to the bundle), cwd `/`, uid/gid 0, PATH, the
 * default capabilities in bounding/effective/permitted, RLIMIT_NOFILE 1024/1024, no new
 * privileges, the kernel mounts (no `/run`) plus a read-only cgroup mount, new pid/ipc/uts/mount/
 * network namespaces, the default masked and read-only paths and the default device rules.
 * Every call returns a new object the caller may mutate.
 */
export function defaultLinuxSpec(options: DefaultSpecOptions = {}): OciSpec {
  return {
    ociVersion: OCI_VERSION,
    root: { path: 'rootfs' },
    process: {
      user: { uid: 0, gid: 0 },
      args: [],
      env: [DEFAULT_PATH_ENV],
      cwd: '/',
      capabilities: capabilitySets(DEFAULT_CAPABILITIES),
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    mounts: [...defaultMounts(), cgroupMount({ writable: false })],
    linux: {
      namespaces: defaultNamespaces(),
      ...(options.cgroupsPath !== undefined ? { cgroupsPath: options.cgroupsPath } : {}),
      resources: { devices: DEFAULT_DEVICE_RULES.map(rule => ({ ...rule })) },
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
    },
  };
}
