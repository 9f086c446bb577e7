import { cri } from '@crikit/api';
import { InvalidArgumentError, type OciImageConfig } from '@crikit/core';
import { groupsPolicy, memberGids, mergeGids, resolveUser, supplementalGids, type OciUser, type UserDb } from '@crikit/oci';

/**
 * The user string a container runs as, from its security context (containerd's
 * `generateUserString`): run_as_username, else run_as_user, with `:run_as_group` when set; '' when
 * the CRI sets no user. CRI: run_as_group without a user is an error.
 * @throws InvalidArgumentError when run_as_group is set without run_as_user or run_as_username
 */
export function criUserString(sc: cri.LinuxContainerSecurityContext | undefined): string {
  const user = sc?.runAsUsername || (sc?.runAsUser ? String(sc.runAsUser.value) : '');
  const group = sc?.runAsGroup ? String(sc.runAsGroup.value) : '';
  if (user === '') {
    if (group !== '') throw new InvalidArgumentError(`run_as_group ${group} is set without run_as_user or run_as_username`);
    return '';
  }
  return group === '' ? user : `${user}:${group}`;
}

/**
 * The user whose `/etc/group` memberships become supplemental groups (containerd's
 * `WithAdditionalGIDs` argument): run_as_username, else run_as_user, else the user part of the
 * image's User, else root.
 */
export function groupMemberUser(sc: cri.LinuxContainerSecurityContext | undefined, image: OciImageConfig): string {
  if (sc?.runAsUsername) return sc.runAsUsername;
  if (sc?.runAsUser) return String(sc.runAsUser.value);
  const imageUser = (image.config.User ?? '').split(':')[0] ?? '';
  return imageUser !== '' ? imageUser : '0';
}

/**
 * The `process.user` of a container, resolved against its rootfs's `/etc/passwd` and `/etc/group`:
 * - uid/gid from the CRI user (run_as_username / run_as_user / run_as_group) or, when the CRI sets
 *   none, the image's User (`name`, `uid`, `uid:gid`, `name:group`); root when neither does;
 * - supplemental groups: with policy Merge (the default), the primary gid, the groups `/etc/group`
 *   lists the user in, and the CRI's supplemental_groups; with Strict, only the primary gid and the
 *   CRI's. Sorted and deduplicated, as containerd merges them.
 * @throws InvalidArgumentError naming an unknown user or group, on a group without a user, or on
 *   a policy other than Merge and Strict
 */
export function containerUser(
  sc: cri.LinuxContainerSecurityContext | undefined, image: OciImageConfig, db: UserDb,
): OciUser {
  const user = criUserString(sc) || (image.config.User ?? '');
  const { uid, gid } = resolveUser(user, db);
  const requested = supplementalGids(sc?.supplementalGroups ?? [], 'linux.security_context.supplemental_groups');
  const strict = groupsPolicy(sc?.supplementalGroupsPolicy, 'linux.security_context.supplemental_groups_policy') === 'strict';
  // CRI: Strict ignores the groups the image's /etc/group defines for the user.
  const fromImage = strict ? [] : memberGids(groupMemberUser(sc, image), db);
  return { uid, gid, additionalGids: mergeGids([gid], fromImage, requested) };
}
