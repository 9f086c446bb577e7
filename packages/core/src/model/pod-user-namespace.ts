import { cri } from '@crikit/api';
import { InvalidArgumentError } from '../errors.js';

/** One id range of a user namespace: ids `containerId…+length` inside are `hostId…+length` on the host. */
export interface IdRange {
  readonly containerId: number;
  readonly hostId: number;
  readonly length: number;
}

/**
 * A pod's user namespace (CRI `NamespaceOption.userns_options` in mode POD): the pause and every
 * container of the pod share it. One uid range and one gid range, each starting at container id 0.
 */
export interface PodUserNamespace {
  readonly uids: IdRange;
  readonly gids: IdRange;
}

/** The CRI field the user namespace of a pod is read from, for error messages. */
export const POD_USERNS_FIELD = 'config.linux.security_context.namespace_options.userns_options';

/** The largest id + 1: ids are 32-bit, and (uint32)-1 is never a valid id. */
const ID_LIMIT = 2 ** 32 - 1;

const modeName = (mode: cri.NamespaceMode): string => cri.namespaceModeToJSON(mode);

function oneRange(ranges: readonly cri.IDMapping[], field: string): IdRange {
  if (ranges.length === 0) throw new InvalidArgumentError(`${field}: mode POD needs one mapping, got none`);
  // containerd's CRI: one range only, since the remapped (chowned) snapshot shifts by one offset.
  if (ranges.length > 1) throw new InvalidArgumentError(`${field}: only one mapping is supported, got ${ranges.length}`);
  const { containerId, hostId, length } = ranges[0]!;
  if (length < 1) throw new InvalidArgumentError(`${field}: mapping length must be at least 1, got ${length}`);
  // The container's root must be someone: a user namespace without id 0 leaves runc nobody to set up as.
  if (containerId !== 0) throw new InvalidArgumentError(`${field}: container id 0 is not mapped (the mapping starts at container id ${containerId})`);
  if (hostId + length > ID_LIMIT) throw new InvalidArgumentError(`${field}: host ids ${hostId}+${length} pass the 32-bit limit`);
  return { containerId, hostId, length };
}

/**
 * The user namespace a pod asks for, after containerd's CRI (`parseUsernsIDs`): none for no options
 * or mode NODE (the host's, as before user namespaces), one range of uids and one of gids for POD.
 * @param field the CRI field, for messages (the pod's, or a container's)
 * @throws InvalidArgumentError for mode CONTAINER or TARGET, mappings with NODE, a missing, second,
 *   empty or out-of-range mapping, or one that leaves container id 0 unmapped
 */
export function podUserNamespace(options: cri.UserNamespace | undefined, field = POD_USERNS_FIELD): PodUserNamespace | undefined {
  if (!options) return undefined;
  switch (options.mode) {
    case cri.NamespaceMode.NODE:
      if (options.uids.length > 0 || options.gids.length > 0) {
        throw new InvalidArgumentError(`${field}: mode NODE takes no mappings, got ${options.uids.length} uid and ${options.gids.length} gid mappings`);
      }
      return undefined;
    case cri.NamespaceMode.POD:
      return { uids: oneRange(options.uids, `${field}.uids`), gids: oneRange(options.gids, `${field}.gids`) };
    default:
      // CRI: CONTAINER and TARGET are defined but no runtime gives a container a user namespace of its own.
      throw new InvalidArgumentError(`${field}: mode ${modeName(options.mode)} is not supported, only POD or NODE`);
  }
}

/** Whether two pods' (or a pod's and a container's) user namespaces are the same; none equals none. */
export function sameUserNamespace(a: PodUserNamespace | undefined, b: PodUserNamespace | undefined): boolean {
  if (!a || !b) return a === b;
  const same = (x: IdRange, y: IdRange) => x.containerId === y.containerId && x.hostId === y.hostId && x.length === y.length;
  return same(a.uids, b.uids) && same(a.gids, b.gids);
}

/** The user namespace a sandbox's config asks for (see `podUserNamespace`). */
export function sandboxUserNamespace(config: cri.PodSandboxConfig): PodUserNamespace | undefined {
  return podUserNamespace(config.linux?.securityContext?.namespaceOptions?.usernsOptions);
}
