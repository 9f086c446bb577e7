import { cri } from '@crikit/api';
import { InvalidArgumentError } from '@crikit/core';

/** How a process's supplemental groups are made: `merge` adds the image's /etc/group memberships, `strict` does not. */
export type GroupsPolicy = 'merge' | 'strict';

/**
 * The CRI `supplemental_groups_policy` of a pod or container security context as a closed set.
 * CRI: Merge (0, the default) and Strict (1) are the only values; a kubelet newer than this
 * runtime could send another, which is refused rather than read as Merge.
 * @throws InvalidArgumentError naming `field` and the unknown value
 */
export function groupsPolicy(value: cri.SupplementalGroupsPolicy | undefined, field: string): GroupsPolicy {
  switch (value ?? cri.SupplementalGroupsPolicy.Merge) {
    case cri.SupplementalGroupsPolicy.Merge: return 'merge';
    case cri.SupplementalGroupsPolicy.Strict: return 'strict';
    default: throw new InvalidArgumentError(`${field}: unknown supplemental groups policy ${String(value)} (Merge or Strict)`);
  }
}
