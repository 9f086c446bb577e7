import type { cri } from '@crikit/api';
import { InvalidArgumentError } from '@crikit/core';
import {
  capabilitySets, containerCapabilities, LINUX_CAPABILITIES, localhostProfilePath, profileChoice, resolveSeccomp,
  type OciCapabilities, type OciSeccomp,
} from '@crikit/oci';
import { containerAppArmorProfile } from './container-apparmor.js';
import type { ContainerSpecOptions } from './container-spec-input.js';

/** The security-related parts of a container's spec. */
export interface ContainerSecurity {
  readonly privileged: boolean;
  readonly capabilities: OciCapabilities;
  readonly noNewPrivileges: boolean;
  readonly readonlyRootfs: boolean;
  readonly apparmorProfile?: string | undefined;
  readonly seccomp?: OciSeccomp | undefined;
  /** undefined: none at all (privileged, or the kubelet sent an empty list). */
  readonly maskedPaths?: string[] | undefined;
  readonly readonlyPaths?: string[] | undefined;
}

/** What `containerSecurity` needs besides the container's config. */
export interface SecurityContext {
  readonly sandboxConfig: cri.PodSandboxConfig;
  readonly localhostSeccomp?: OciSeccomp | undefined;
  readonly options: ContainerSpecOptions;
}

/**
 * The file a container's Localhost seccomp profile must be loaded from (core's
 * `loadLocalhostSeccompProfile`) before `buildContainerSpec`; undefined when it asks for none.
 * @throws InvalidArgumentError on a malformed profile or a ref that escapes `seccompProfileRoot`
 */
export function containerSeccompProfilePath(config: cri.ContainerConfig, options: Pick<ContainerSpecOptions, 'seccompProfileRoot'>): string | undefined {
  const sc = config.linux?.securityContext;
  if (sc?.privileged) return undefined;
  const choice = profileChoice(sc?.seccomp, sc?.seccompProfilePath ?? '');
  return choice?.type === 'localhost' ? localhostProfilePath(choice.ref, options.seccompProfileRoot) : undefined;
}

/**
 * The security settings of a container (containerd's `containerSpec` and `WithPrivileged`):
 * - privileged: only in a privileged sandbox; every capability the runtime holds (its bounding
 *   set), no masked or read-only paths, no seccomp even when a profile is asked for, no AppArmor
 *   (host devices, a writable /sys and cgroup fs are set by the device and mount parts);
 * - otherwise the default capabilities changed by the CRI's add/drop lists (`ALL`, meaning what the
 *   runtime holds, handled first; core's `containerCapabilities`); ambient capabilities stay empty
 *   (kubernetes#56374);
 * - no_new_privs and readonly_rootfs as asked;
 * - masked and read-only paths exactly as the kubelet sends them: containerd replaces runc's
 *   defaults with the CRI lists, so an empty list (procMount Unmasked, or crictl) means none;
 * - seccomp from `seccomp` (else the deprecated `seccomp_profile_path`, else the node default),
 *   RuntimeDefault resolved against the final capabilities; AppArmor per `containerAppArmorProfile`.
 * @throws InvalidArgumentError for a privileged container in an unprivileged sandbox, a capability
 *   the runtime does not hold in add_capabilities, or a malformed profile; FailedPreconditionError as `containerAppArmorProfile` and `resolveSeccomp`
 */
export function containerSecurity(config: cri.ContainerConfig, context: SecurityContext): ContainerSecurity {
  const sc = config.linux?.securityContext;
  const { options } = context;
  const privileged = sc?.privileged ?? false;
  if (privileged && !context.sandboxConfig.linux?.securityContext?.privileged) {
    throw new InvalidArgumentError(`privileged container "${config.metadata?.name ?? ''}" is not allowed in an unprivileged sandbox`);
  }
  let caps: string[];
  try {
    caps = containerCapabilities({
      privileged, host: options.hostCapabilities ?? LINUX_CAPABILITIES,
      changes: { add: sc?.capabilities?.addCapabilities, drop: sc?.capabilities?.dropCapabilities },
    });
  } catch (err) {
    throw new InvalidArgumentError(`container "${config.metadata?.name ?? ''}": ${(err as Error).message}`, { cause: err });
  }

  const seccomp = resolveSeccomp(profileChoice(sc?.seccomp, sc?.seccompProfilePath ?? ''), {
    privileged, capabilities: caps, whenUnset: options.runtimeDefaultSeccomp ? 'runtime-default' : 'unconfined',
    localhostProfile: context.localhostSeccomp, arch: options.arch,
  });
  const apparmorProfile = containerAppArmorProfile(sc, {
    hostHasAppArmor: options.hostHasAppArmor, defaultProfile: options.appArmorDefaultProfile, privileged,
  });
  const masked = sc?.maskedPaths ?? [];
  const readonly = sc?.readonlyPaths ?? [];
  return {
    privileged,
    capabilities: capabilitySets(caps),
    noNewPrivileges: sc?.noNewPrivs ?? false,
    readonlyRootfs: sc?.readonlyRootfs ?? false,
    apparmorProfile,
    seccomp,
    maskedPaths: !privileged && masked.length > 0 ? [...masked] : undefined,
    readonlyPaths: !privileged && readonly.length > 0 ? [...readonly] : undefined,
  };
}
