import fs from 'node:fs/promises';
import path from 'node:path';
import { inject, injectable, optional } from 'inversify';
import type { cri, types } from '@crikit/api';
import {
  deadline, FailedPreconditionError, InvalidArgumentError, NetworkNamespaces, POD_USERNS_FIELD, RemappedSnapshots, RuntimeFeatures, runtimeHandler,
  PathsConfig, RuntimesConfig, sandboxUserNamespace, type PodUserNamespace, type SandboxPaths,
} from '@crikit/core';
import type { OciSpec } from '@crikit/oci';
import { namesInterface } from './sysctl-policy.js';

/** The pod's namespaces shared with the host, and its checked sysctls: what a user namespace rules out. */
export interface PodHostSharing {
  readonly hostNetwork: boolean;
  readonly hostPid: boolean;
  readonly hostIpc: boolean;
  readonly sysctls: Readonly<Record<string, string>>;
}

/** Stands in for the pinned netns path while the pause of a pod in a user namespace has not yet made its netns. */
export const NETNS_MADE_BY_PAUSE = '(made by the pause in its user namespace)';

/** `enable_unprivileged_icmp`'s default range: every gid, which a user namespace does not map. */
const ALL_GIDS_PING_RANGE = '0 2147483647';

/**
 * Pods in a user namespace (`userns_options` mode POD), as containerd 2.x runs them:
 * - the pause makes the user namespace (the pod's uid/gid mappings) and, inside it, the network
 *   namespace, so that the user namespace owns it (else runc cannot mount sysfs, and the pod cannot
 *   set its net sysctls); crikit pins that netns from the pause's pid before CNI ADD;
 * - the pause's rootfs, like every container's, is a remapped snapshot (RemappedSnapshots).
 * Refusals come before anything is made.
 */
@injectable()
export class SandboxUserNamespaces {
  constructor(
    @inject(RuntimesConfig) private readonly runtimes: RuntimesConfig,
    @inject(PathsConfig) private readonly paths: PathsConfig,
    @inject(NetworkNamespaces) private readonly netns: NetworkNamespaces,
    // Both bound by the container package; without it no handler runs pods in a user namespace.
    @inject(RuntimeFeatures) @optional() private readonly features: RuntimeFeatures | undefined,
    @inject(RemappedSnapshots) @optional() private readonly remapped: RemappedSnapshots | undefined,
  ) {}

  /**
   * The pod's user namespace, or undefined for none (no options, or mode NODE).
   * @throws InvalidArgumentError for options the CRI or crikit cannot honour (see core's
   *   `podUserNamespace`), a handler whose runtime cannot run pods in a user namespace, a namespace
   *   shared with the host, or a sysctl of an interface CNI makes only after the pause runs
   */
  async check(config: cri.PodSandboxConfig, handlerName: string, sharing: PodHostSharing, signal: AbortSignal): Promise<PodUserNamespace | undefined> {
    const userns = sandboxUserNamespace(config);
    if (!userns) return undefined;
    const { name } = runtimeHandler(this.runtimes, handlerName, 'run pod sandbox');
    if (!(await this.handlerSupports(name, signal)) || !this.remapped) {
      throw new InvalidArgumentError(`${POD_USERNS_FIELD}: runtime handler "${name}" does not support user namespaces (see Status runtime_handlers)`);
    }
    // The kubelet refuses these too (hostUsers: false with hostNetwork, hostPID or hostIPC): a user
    // namespace cannot own a host namespace, and Status does not advertise user_namespaces_host_network.
    const shared = [sharing.hostNetwork && 'network', sharing.hostPid && 'pid', sharing.hostIpc && 'ipc'].filter(Boolean);
    if (shared.length > 0) throw new InvalidArgumentError(`${POD_USERNS_FIELD}: a pod in a user namespace cannot share the host's ${shared.join(', ')} namespace`);
    if (namesInterface(sharing.sysctls)) {
      throw new InvalidArgumentError(`${POD_USERNS_FIELD}: a sysctl of a network interface cannot be set in a user namespace pod, whose interfaces CNI adds after the pause starts`);
    }
    const closed = await this.closedAncestor();
    if (closed) {
      throw new FailedPreconditionError(`${POD_USERNS_FIELD}: ${closed.dir} (mode ${closed.mode.toString(8).padStart(4, '0')}) does not let others search it, `
        + 'and runc sets a user namespace pod up as an unprivileged host uid that must reach the files under it: chmod o+x it');
    }
    return userns;
  }

  /**
   * The first dir above crikit's root or state dir that others may not search (crikit's own dirs
   * get that permission from `exposeFiles`), or undefined. Missing dirs are not checked.
   */
  private async closedAncestor(): Promise<{ dir: string; mode: number } | undefined> {
    for (const top of [this.paths.rootDir, this.paths.stateDir]) {
      const ancestors: string[] = [];
      for (let dir = path.dirname(path.resolve(top)); ; dir = path.dirname(dir)) {
        ancestors.unshift(dir);
        if (dir === path.dirname(dir)) break;
      }
      for (const dir of ancestors) {
        const mode = await fs.stat(dir).then(st => st.mode & 0o7777, () => undefined);
        if (mode !== undefined && (mode & 0o001) === 0) return { dir, mode };
      }
    }
    return undefined;
  }

  /** The pause's rootfs: a remapped snapshot of the pause image (see RemappedSnapshots.prepare). */
  async prepareRootfs(key: string, parent: string, userns: PodUserNamespace, signal: AbortSignal): Promise<types.Mount[]> {
    if (!this.remapped) throw new InvalidArgumentError(`${POD_USERNS_FIELD}: user namespaces need the container package`);
    return this.remapped.prepare({ key, parent, userns }, signal);
  }

  /**
   * Lets the pod's user namespace reach the sandbox's files: runc bind-mounts them (hosts,
   * resolv.conf, hostname, shm) from inside the namespace, whose root is an unprivileged host uid.
   * Adds search (x) permission, never read, to crikit's dirs down to them, as containerd keeps its
   * state dirs 0711. The dirs above crikit's root and state dirs must allow it already (/var/lib, /run do).
   */
  async exposeFiles(files: SandboxPaths): Promise<void> {
    const chain = (top: string, leaf: string): string[] => {
      const dirs = [top];
      for (const part of path.relative(top, leaf).split(path.sep).filter(Boolean)) dirs.push(path.join(dirs.at(-1)!, part));
      return dirs;
    };
    for (const dir of [...chain(this.paths.rootDir, files.dir), ...chain(this.paths.stateDir, files.stateDir)]) {
      const { mode } = await fs.stat(dir);
      if ((mode & 0o011) !== 0o011) await fs.chmod(dir, (mode & 0o7777) | 0o011);
    }
  }

  /** Removes the remapped copies no rootfs uses, after a failed RunPodSandbox gave its rootfs back. Never throws. */
  async removeUnusedCopies(signal: AbortSignal): Promise<void> {
    await this.remapped?.removeUnused(signal);
  }

  /** Pins the network namespace the pause `pid` made, under the sandbox's id. */
  pinNetns(id: string, pid: number, signal: AbortSignal): Promise<string> {
    return this.netns.pin(id, `/proc/${pid}/ns/net`, signal);
  }

  private async handlerSupports(name: string, signal: AbortSignal): Promise<boolean> {
    if (!this.features) return false;
    const limit = deadline(signal, 30_000);
    try {
      return (await this.features.report(limit.signal)).handlers.find(h => h.name === name)?.features.userNamespaces ?? false;
    } finally {
      limit.dispose();
    }
  }
}

/**
 * Puts the pause into a new user namespace with the pod's mappings (containerd's `WithUserNamespace`)
 * and gives it a new network namespace inside it, in place of a pinned path. A default all-gids
 * ping range becomes the namespace's own gids: the kernel refuses gids the namespace does not map.
 * @throws InvalidArgumentError when the pause's user or group is outside the mapping
 */
export function enterPodUserNamespace(spec: OciSpec, userns: PodUserNamespace): void {
  // runc could not switch the pause to an id the namespace does not map (65535 needs 65536 ids).
  const user = spec.process?.user;
  for (const [kind, id, range] of [['uid', user?.uid, userns.uids], ['gid', user?.gid, userns.gids]] as const) {
    if (id !== undefined && id >= range.length) {
      throw new InvalidArgumentError(`${POD_USERNS_FIELD}: the pause runs as ${kind} ${id}, outside the pod's user namespace, which maps ${kind}s 0-${range.length - 1}`);
    }
  }
  const linux = spec.linux ??= {};
  linux.namespaces = [{ type: 'user' }, ...(linux.namespaces ?? []).filter(n => n.type !== 'user').map(n => (n.type === 'network' ? { type: n.type } : n))];
  linux.uidMappings = [{ containerID: userns.uids.containerId, hostID: userns.uids.hostId, size: userns.uids.length }];
  linux.gidMappings = [{ containerID: userns.gids.containerId, hostID: userns.gids.hostId, size: userns.gids.length }];
  if (linux.sysctl?.['net.ipv4.ping_group_range'] === ALL_GIDS_PING_RANGE) linux.sysctl['net.ipv4.ping_group_range'] = `0 ${userns.gids.length - 1}`;
}
