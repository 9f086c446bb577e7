import { cri } from '@crikit/api';
import {
  FailedPreconditionError, InvalidArgumentError, podUserNamespace, sameUserNamespace, sandboxUserNamespace,
  type IdRange, type PodUserNamespace, type RuntimeHandlerReport,
} from '@crikit/core';
import type { OciIdMapping, OciSpec } from '@crikit/oci';
import type { PodSandboxContext } from './container-spec-input.js';

/** The CRI field a container's user namespace is read from. */
const FIELD = 'config.linux.security_context.namespace_options.userns_options';

/** What the pod's runtime handler can do for user namespaces (from Status's runtime features). */
export interface UsernsSupport {
  /** The handler runs pods in a user namespace (RuntimeHandlerFeatures.user_namespaces). */
  readonly userNamespaces: boolean;
  /** The handler's binary declares idmapped mounts: CRI mounts with uid/gid mappings can be honoured. */
  readonly idmapMounts: boolean;
  /** …in a container joining its pod's or another container's pid namespace too; unset: as `idmapMounts`. */
  readonly idmapMountsJoiningPid?: boolean;
}

/** What Status reports for a handler, as `UsernsSupport` (nothing for an unknown handler). */
export function usernsSupportOf(report: RuntimeHandlerReport | undefined): UsernsSupport {
  return {
    userNamespaces: report?.features.userNamespaces ?? false,
    idmapMounts: report?.idmapMounts ?? false,
    idmapMountsJoiningPid: report?.idmapMountsJoiningPid ?? report?.idmapMounts ?? false,
  };
}

/** One range as an OCI `linux.uidMappings`/`gidMappings` entry. */
export const ociMapping = (r: IdRange): OciIdMapping => ({ containerID: r.containerId, hostID: r.hostId, size: r.length });

/**
 * The user namespace of a container: its pod's (containers never get one of their own, as in
 * containerd 2.x and CRI-O). The kubelet repeats the pod's `userns_options` in each container's
 * config; a container may also leave them out (or say NODE in a pod without one).
 * Checks the CRI mounts' uid/gid mappings too: they need a handler with idmapped mounts and a pod
 * in a user namespace (CRI-O refuses them the same way), and in a container that joins another pid
 * namespace (pid POD or TARGET), a handler that can make them there (crun before 1.8.6 cannot).
 * @throws InvalidArgumentError when the container's options differ from the pod's or are invalid,
 *   or for mount mappings the handler or pod cannot honour
 */
export function containerUserNamespace(config: cri.ContainerConfig, sandboxConfig: cri.PodSandboxConfig, support: UsernsSupport): PodUserNamespace | undefined {
  const pod = sandboxUserNamespace(sandboxConfig);
  const asked = config.linux?.securityContext?.namespaceOptions?.usernsOptions;
  if (asked) {
    const own = podUserNamespace(asked, FIELD);
    if (!sameUserNamespace(own, pod)) {
      throw new InvalidArgumentError(`${FIELD}: differs from the pod's user namespace (${describe(pod)}): a container shares its pod's (${describe(own)} asked)`);
    }
  }
  const pidMode = config.linux?.securityContext?.namespaceOptions?.pid;
  const joinsPid = pidMode === cri.NamespaceMode.POD || pidMode === cri.NamespaceMode.TARGET;
  for (const [i, m] of config.mounts.entries()) {
    if (m.uidMappings.length === 0 && m.gidMappings.length === 0) continue;
    const where = `config.mounts[${i}] at "${m.containerPath}"`;
    if (!support.idmapMounts) throw new InvalidArgumentError(`${where}: uid/gid mappings need idmapped mounts, which the pod's runtime handler does not support`);
    if (!pod) throw new InvalidArgumentError(`${where}: uid/gid mappings need the pod in a user namespace`);
    if (joinsPid && !(support.idmapMountsJoiningPid ?? support.idmapMounts)) {
      throw new InvalidArgumentError(`${where}: uid/gid mappings in a container that joins another pid namespace (pid ${cri.NamespaceMode[pidMode!]}) `
        + 'need idmapped mounts there, which the pod\'s runtime handler does not support (crun before 1.8.6): give the container its own pid namespace');
    }
  }
  return pod;
}

/**
 * Puts a container into its pod's user namespace (containerd's `WithPodNamespaces`): it joins the
 * pause's (`/proc/<pause pid>/ns/user`, first of all namespaces, which runc orders itself) and the
 * spec carries the same mappings, which runc 1.1 needs to set up the container as its root.
 * @throws FailedPreconditionError when the sandbox has no running pause process
 */
export function joinPodUserNamespace(spec: OciSpec, userns: PodUserNamespace, sandbox: PodSandboxContext): void {
  if (sandbox.pid <= 0) throw new FailedPreconditionError(`sandbox ${sandbox.id} has no running pause process`);
  checkUserMapped(spec, userns, 'the container');
  const linux = spec.linux ??= {};
  linux.namespaces = [{ type: 'user', path: `/proc/${sandbox.pid}/ns/user` }, ...(linux.namespaces ?? []).filter(n => n.type !== 'user')];
  linux.uidMappings = [ociMapping(userns.uids)];
  linux.gidMappings = [ociMapping(userns.gids)];
}

/**
 * Refuses a process user the namespace does not map: runc would fail to switch to it.
 * @throws InvalidArgumentError naming the id and the mapping's size
 */
export function checkUserMapped(spec: OciSpec, userns: PodUserNamespace, who: string): void {
  const user = spec.process?.user;
  if (!user) return;
  if (user.uid >= userns.uids.length) {
    throw new InvalidArgumentError(`${FIELD}: ${who} runs as uid ${user.uid}, outside the pod's user namespace, which maps uids 0-${userns.uids.length - 1}`);
  }
  for (const gid of [user.gid, ...(user.additionalGids ?? [])]) {
    if (gid >= userns.gids.length) {
      throw new InvalidArgumentError(`${FIELD}: ${who} runs with gid ${gid}, outside the pod's user namespace, which maps gids 0-${userns.gids.length - 1}`);
    }
  }
}

function describe(userns: PodUserNamespace | undefined): string {
  if (!userns) return 'none';
  return `uids ${userns.uids.containerId}:${userns.uids.hostId}:${userns.uids.length}, gids ${userns.gids.containerId}:${userns.gids.hostId}:${userns.gids.length}`;
}
