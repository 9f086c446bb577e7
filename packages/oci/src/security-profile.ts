import { posix } from 'node:path';
import { cri } from '@crikit/api';
import { FailedPreconditionError, InvalidArgumentError } from '@crikit/core';
import type { OciSeccomp } from './oci-spec.js';
import { runtimeDefaultSeccompProfile } from './seccomp-profile.js';
import type { SeccompNodeArch } from './seccomp-default-rules.js';

/** A seccomp or AppArmor profile choice, from the CRI's `SecurityProfile` or its deprecated path string. */
export type ProfileChoice =
  | { readonly type: 'runtime-default' }
  | { readonly type: 'unconfined' }
  | { readonly type: 'localhost'; readonly ref: string };

const LOCALHOST_PREFIX = 'localhost/';

/**
 * Reads a deprecated profile string (`seccomp_profile_path`, `apparmor_profile`) as containerd does:
 * `runtime/default`, `docker/default` → RuntimeDefault; `unconfined` → Unconfined;
 * `localhost/<ref>` → Localhost; `''` → nothing chosen.
 * @throws InvalidArgumentError on any other string
 */
export function profileFromPath(path: string): ProfileChoice | undefined {
  switch (path) {
    case '': return undefined;
    case 'runtime/default': case 'docker/default': return { type: 'runtime-default' };
    case 'unconfined': return { type: 'unconfined' };
    default:
      if (!path.startsWith(LOCALHOST_PREFIX) || path.length === LOCALHOST_PREFIX.length) {
        throw new InvalidArgumentError(`invalid security profile "${path}"`);
      }
      return { type: 'localhost', ref: path.slice(LOCALHOST_PREFIX.length) };
  }
}

/**
 * The profile a security context asks for: its `SecurityProfile` field when set, else its
 * deprecated path string. undefined when neither chooses one.
 * @throws InvalidArgumentError on an unknown profile type, a Localhost profile without a
 *   `localhost_ref`, or a `localhost_ref` on another type (containerd refuses that too)
 */
export function profileChoice(profile: cri.SecurityProfile | undefined, deprecatedPath: string): ProfileChoice | undefined {
  if (!profile) return profileFromPath(deprecatedPath);
  const { profileType, localhostRef } = profile;
  if (profileType !== cri.SecurityProfile_ProfileType.Localhost && localhostRef !== '') {
    throw new InvalidArgumentError('invalid security profile: localhost_ref is set but the type is not Localhost');
  }
  switch (profileType) {
    case cri.SecurityProfile_ProfileType.RuntimeDefault: return { type: 'runtime-default' };
    case cri.SecurityProfile_ProfileType.Unconfined: return { type: 'unconfined' };
    case cri.SecurityProfile_ProfileType.Localhost: {
      // containerd: trim `localhost/` "just in case", though the CRI field should not carry it.
      const ref = localhostRef.startsWith(LOCALHOST_PREFIX) ? localhostRef.slice(LOCALHOST_PREFIX.length) : localhostRef;
      if (ref === '') throw new InvalidArgumentError('invalid security profile: Localhost without a localhost_ref');
      return { type: 'localhost', ref };
    }
    default: throw new InvalidArgumentError(`invalid security profile type ${String(profileType)}`);
  }
}

/**
 * The file a Localhost seccomp profile is read from: the ref itself when absolute (the kubelet sends
 * `<root-dir>/seccomp/<name>`), else the ref under `profileRoot`.
 * @throws InvalidArgumentError for a relative ref without a root, or one that climbs out of it
 */
export function localhostProfilePath(ref: string, profileRoot?: string): string {
  if (posix.isAbsolute(ref)) return posix.normalize(ref);
  if (profileRoot === undefined) throw new InvalidArgumentError(`seccomp profile "${ref}" is relative and no profile root is configured`);
  const path = posix.join(profileRoot, ref);
  if (!path.startsWith(posix.join(profileRoot, '/'))) throw new InvalidArgumentError(`seccomp profile "${ref}" is outside ${profileRoot}`);
  return path;
}

/** What `resolveSeccomp` needs besides the choice. */
export interface SeccompContext {
  /** Privileged containers and sandboxes run without seccomp (containerd). */
  readonly privileged: boolean;
  /** The process's final capabilities, which the RuntimeDefault profile's conditional rules are keyed on. */
  readonly capabilities: readonly string[];
  /** What an unset profile means: the kubelet's SeccompDefault or containerd's `unset_seccomp_profile`. */
  readonly whenUnset: 'runtime-default' | 'unconfined';
  /** The Localhost profile, loaded by the caller (`loadLocalhostSeccompProfile`) when the choice is Localhost. */
  readonly localhostProfile?: OciSeccomp | undefined;
  readonly arch?: SeccompNodeArch | undefined;
}

/**
 * The `linux.seccomp` of a process: none when privileged or Unconfined, crikit's RuntimeDefault
 * profile resolved against the capabilities, or the Localhost profile the caller loaded.
 * @throws FailedPreconditionError when Localhost is chosen but no profile was loaded (a caller bug
 *   or a race with the file's removal)
 */
export function resolveSeccomp(choice: ProfileChoice | undefined, context: SeccompContext): OciSeccomp | undefined {
  if (context.privileged) return undefined;   // containerd: no seccomp for privileged
  const effective = choice ?? { type: context.whenUnset };
  switch (effective.type) {
    case 'unconfined': return undefined;
    case 'runtime-default': return runtimeDefaultSeccompProfile({ capabilities: context.capabilities, arch: context.arch });
    case 'localhost':
      if (!context.localhostProfile) throw new FailedPreconditionError(`seccomp profile "${effective.ref}" was not loaded`);
      return structuredClone(context.localhostProfile);
  }
}
