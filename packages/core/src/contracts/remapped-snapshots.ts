import type { types } from '@crikit/api';
import type { PodUserNamespace } from '../model/pod-user-namespace.js';

/** What `RemappedSnapshots.prepare` makes. */
export interface RemappedSnapshotRequest {
  /** The active snapshot to prepare (the sandbox's or container's id). */
  readonly key: string;
  /** The image's chain id: its unpacked snapshot. */
  readonly parent: string;
  /** The pod's user namespace: every file's owner is shifted by its host offsets. */
  readonly userns: PodUserNamespace;
  /** The lease the new snapshot is made under, when the caller holds one. */
  readonly lease?: string | undefined;
}

/**
 * Root filesystems for pods in a user namespace on runtimes without idmapped mounts (runc 1.1), as
 * containerd 1.7 makes them: the image's files copied once per image and mapping into a committed
 * snapshot `<chain id>-<host uid>-<host gid>` with every owner shifted by the mapping's host offset,
 * and each rootfs an active snapshot on top of it, labelled `containerd.io/snapshot/uidmapping` and
 * `…/gidmapping`. Implemented in `container`.
 */
export interface RemappedSnapshots {
  /**
   * Prepares the active snapshot `key` on the remapped copy of `parent`, making that copy first if
   * needed (concurrent calls for one image and mapping share the work).
   * @returns the mounts of the new snapshot
   * @throws NotFoundError when the image's snapshot is gone, UnavailableError when copying fails
   *   (nothing is left behind either way)
   */
  prepare(request: RemappedSnapshotRequest, signal: AbortSignal): Promise<types.Mount[]>;
  /**
   * Removes the remapped copies no snapshot is prepared on any more. Idempotent; never throws (a
   * copy still in use, or a failure, is left for the next call or containerd's GC).
   */
  removeUnused(signal: AbortSignal): Promise<void>;
}
export const RemappedSnapshots = Symbol('RemappedSnapshots');
