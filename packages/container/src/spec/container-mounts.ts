import { posix } from 'node:path';
import { cri } from '@crikit/api';
import { FailedPreconditionError, InvalidArgumentError, UnimplementedError } from '@crikit/core';
import { cgroupMount, defaultMounts, type OciLinux, type OciMount } from '@crikit/oci';
import type { PodSandboxContext } from './container-spec-input.js';

/** The mounts of a container and the propagation its rootfs needs for them. */
export interface ContainerMounts {
  readonly mounts: OciMount[];
  /** Set when a mount propagates from the host (`rslave`) or both ways (`rshared`). */
  readonly rootfsPropagation?: OciLinux['rootfsPropagation'];
}

/** What `containerMounts` needs besides the CRI config. */
export interface MountContext {
  readonly sandbox: PodSandboxContext;
  readonly privileged: boolean;
  readonly readonlyRootfs: boolean;
  readonly supportsRecursiveReadOnly: boolean;
}

const P = cri.MountPropagation;
const clean = (path: string): string => posix.normalize(path).replace(/(.)\/+$/, '$1');
const depth = (path: string): number => (path === '/' ? 0 : path.split('/').length - 1);

/**
 * The files every container of a sandbox gets from it (containerd's `containerMounts`):
 * /etc/hostname (when the sandbox wrote one), /etc/hosts and /etc/resolv.conf, read-only when the
 * rootfs is; and /dev/shm, the sandbox's or, with host IPC, the host's, always writable. A CRI
 * mount at the same destination replaces each of them.
 */
export function sandboxMounts(config: cri.ContainerConfig, context: MountContext): cri.Mount[] {
  const { sandbox, readonlyRootfs } = context;
  const hostIpc = sandbox.config.linux?.securityContext?.namespaceOptions?.ipc === cri.NamespaceMode.NODE;
  const bind = (containerPath: string, hostPath: string, readonly: boolean): cri.Mount =>
    cri.Mount.fromPartial({ containerPath, hostPath, readonly, propagation: P.PROPAGATION_PRIVATE });
  const extra = [
    ...(sandbox.files.hostname !== undefined ? [bind('/etc/hostname', sandbox.files.hostname, readonlyRootfs)] : []),
    bind('/etc/hosts', sandbox.files.hosts, readonlyRootfs),
    bind('/etc/resolv.conf', sandbox.files.resolvConf, readonlyRootfs),
    bind('/dev/shm', hostIpc ? '/dev/shm' : sandbox.files.shm, false),
  ];
  const requested = new Set(config.mounts.map(m => clean(m.containerPath)));
  return extra.filter(m => !requested.has(m.containerPath));
}

/**
 * Turns one CRI mount into an OCI bind mount: `rbind`, the propagation (PRIVATE → rprivate,
 * HOST_TO_CONTAINER → rslave, BIDIRECTIONAL → rshared), then `ro`, `rro` or `rw`.
 * @throws InvalidArgumentError on a relative path or an inconsistent recursive_read_only,
 *   FailedPreconditionError when rro is asked but the runtime cannot do it,
 *   UnimplementedError for image mounts
 */
export function bindMount(mount: cri.Mount, supportsRecursiveReadOnly: boolean): OciMount {
  const { containerPath, hostPath } = mount;
  if (!posix.isAbsolute(containerPath)) throw new InvalidArgumentError(`mount container path "${containerPath}" is not absolute`);
  if (mount.image) throw new UnimplementedError(`image volume mount at "${containerPath}" is not supported`);
  if (hostPath === '') throw new InvalidArgumentError(`mount at "${containerPath}" has no host path`);
  const options = ['rbind'];
  switch (mount.propagation) {
    case P.PROPAGATION_HOST_TO_CONTAINER: options.push('rslave'); break;
    case P.PROPAGATION_BIDIRECTIONAL: options.push('rshared'); break;
    default: options.push('rprivate');   // containerd: PRIVATE, and unknown values with a warning
  }
  if (mount.recursiveReadOnly) {
    // CRI: recursive read-only needs a read-only, non-propagating mount and a runtime that supports it.
    if (!mount.readonly) throw new InvalidArgumentError(`recursive read-only mount at "${containerPath}" must be read-only`);
    if (mount.propagation !== P.PROPAGATION_PRIVATE) {
      throw new InvalidArgumentError(`recursive read-only mount at "${containerPath}" must have private propagation`);
    }
    if (!supportsRecursiveReadOnly) {
      throw new FailedPreconditionError(`recursive read-only mount at "${containerPath}": the runtime does not support rro`);
    }
    options.push('rro');
  } else {
    // containerd: a read-only rootfs does not make the other mounts read-only.
    options.push(mount.readonly ? 'ro' : 'rw');
  }
  // An idmapped mount (runtime-spec 1.1); `containerUserNamespace` has checked that the handler can do it.
  const idmap = (ranges: readonly cri.IDMapping[]) => ranges.map(r => ({ containerID: r.containerId, hostID: r.hostId, size: r.length }));
  const mappings = mount.uidMappings.length > 0 || mount.gidMappings.length > 0
    ? { uidMappings: idmap(mount.uidMappings), gidMappings: idmap(mount.gidMappings) } : {};
  return { destination: clean(containerPath), type: 'bind', source: hostPath, options, ...mappings };
}

/**
 * All mounts of a container, in mount order:
 * - the default kernel mounts plus the cgroup fs, except those a CRI or sandbox mount replaces, and
 *   everything under /dev when /dev itself is mounted; /sys and /sys/fs/cgroup are writable for a
 *   privileged container;
 * - the CRI mounts and the sandbox's files (`sandboxMounts`), a CRI mount winning at the same
 *   destination and the last of duplicate CRI mounts winning;
 * - sorted by depth (stable), so that a parent is mounted before what is mounted inside it.
 * Host paths are used as given: the caller resolves symlinks and creates missing directories.
 * @throws as `bindMount`
 */
export function containerMounts(config: cri.ContainerConfig, context: MountContext): ContainerMounts {
  const byDestination = new Map<string, OciMount>();
  let rootfsPropagation: ContainerMounts['rootfsPropagation'];
  for (const mount of [...sandboxMounts(config, context), ...config.mounts]) {
    const oci = bindMount(mount, context.supportsRecursiveReadOnly);
    byDestination.delete(oci.destination);   // re-inserted last: a later mount at a destination wins
    byDestination.set(oci.destination, oci);
    if (mount.propagation === P.PROPAGATION_BIDIRECTIONAL) rootfsPropagation = 'rshared';
    else if (mount.propagation === P.PROPAGATION_HOST_TO_CONTAINER && rootfsPropagation !== 'rshared') rootfsPropagation = 'rslave';
  }
  const supplied = new Set(byDestination.keys());
  const defaults = [...defaultMounts(), cgroupMount({ writable: context.privileged })]
    .filter(m => !supplied.has(m.destination) && !(supplied.has('/dev') && m.destination.startsWith('/dev/')))
    .map(m => (context.privileged && m.destination === '/sys'
      // containerd: `WithWriteableSysfs` for privileged containers.
      ? { ...m, options: (m.options ?? []).map(o => (o === 'ro' ? 'rw' : o)) } : m));
  const mounts = [...defaults, ...byDestination.values()].sort((a, b) => depth(a.destination) - depth(b.destination));
  return { mounts, ...(rootfsPropagation ? { rootfsPropagation } : {}) };
}
