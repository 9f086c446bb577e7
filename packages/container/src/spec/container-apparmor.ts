import type { cri } from '@crikit/api';
import { FailedPreconditionError } from '@crikit/core';
import { profileChoice } from '@crikit/oci';

/** What `containerAppArmorProfile` needs besides the security context. */
export interface AppArmorContext {
  readonly hostHasAppArmor: boolean;
  /** The loaded profile RuntimeDefault stands for; undefined leaves RuntimeDefault unconfined. */
  readonly defaultProfile?: string | undefined;
  readonly privileged: boolean;
}

/**
 * The `process.apparmorProfile` of a container (containerd's `generateApparmorSpecOpts`):
 * - on a host without AppArmor: none, and asking for any profile but Unconfined is an error;
 * - unset means RuntimeDefault (kubernetes#51746); RuntimeDefault is the configured default
 *   profile, except for privileged containers, which run unconfined;
 * - Unconfined: none; Localhost: the named profile (`localhost/` trimmed), privileged or not.
 * Whether a Localhost profile is loaded is not checked here (that is I/O); runc fails if it is not.
 * @throws FailedPreconditionError when a profile is asked for on a host without AppArmor,
 *   InvalidArgumentError on a malformed profile
 */
export function containerAppArmorProfile(
  sc: cri.LinuxContainerSecurityContext | undefined, context: AppArmorContext,
): string | undefined {
  // The field wins over the deprecated string, as for seccomp.
  const choice = profileChoice(sc?.apparmor, sc?.apparmorProfile ?? '');
  if (!context.hostHasAppArmor) {
    if (choice && choice.type !== 'unconfined') throw new FailedPreconditionError('apparmor is not supported on this host');
    return undefined;
  }
  const effective = choice ?? { type: 'runtime-default' as const };
  switch (effective.type) {
    case 'unconfined': return undefined;
    case 'runtime-default': return context.privileged ? undefined : context.defaultProfile;
    case 'localhost': return effective.ref;
  }
}
