import { normalizeCapability } from './capabilities.js';
import type { OciSeccomp, OciSyscall } from './oci-spec.js';
import {
  EPERM, RUNTIME_DEFAULT_SECCOMP_RULES, type SeccompNodeArch, type SeccompRuleFilter, type SeccompRuleTemplate,
} from './seccomp-default-rules.js';

/** The seccomp architectures a profile covers on each node architecture: the native one and its compat ones. */
const ARCHITECTURES: Readonly<Record<SeccompNodeArch, readonly string[]>> = {
  amd64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
};

/**
 * The node architecture in Go's naming, from Node's `process.arch`.
 * @returns undefined on an architecture crikit has no seccomp profile for
 */
export function seccompNodeArch(nodeArch: string = process.arch): SeccompNodeArch | undefined {
  if (nodeArch === 'x64' || nodeArch === 'amd64') return 'amd64';
  if (nodeArch === 'arm64' || nodeArch === 'aarch64') return 'arm64';
  return undefined;
}

/** What the RuntimeDefault profile is resolved against. */
export interface RuntimeDefaultSeccompOptions {
  /** The container's final capabilities (its bounding set), with or without the `CAP_` prefix. */
  readonly capabilities: readonly string[];
  /** The node's architecture; defaults to the one crikit runs on, and to amd64 where that has no profile. */
  readonly arch?: SeccompNodeArch | undefined;
}

const holds = (filter: SeccompRuleFilter | undefined, caps: ReadonlySet<string>, arch: SeccompNodeArch): {
  all: boolean; any: boolean;
} => {
  const checks = [
    ...(filter?.caps ?? []).map(c => caps.has(c)),
    ...(filter?.arches ? [filter.arches.includes(arch)] : []),
  ];
  return { all: checks.every(Boolean), any: checks.some(Boolean) };
};

/** Whether a template applies: every `includes` condition holds and no `excludes` condition does. */
function applies(rule: SeccompRuleTemplate, caps: ReadonlySet<string>, arch: SeccompNodeArch): boolean {
  return holds(rule.includes, caps, arch).all && !holds(rule.excludes, caps, arch).any;
}

/**
 * crikit's RuntimeDefault seccomp profile for one container, in the OCI `linux.seccomp` form:
 * default action SCMP_ACT_ERRNO returning EPERM, the node's architectures, and the rules of
 * `RUNTIME_DEFAULT_SECCOMP_RULES` whose capability and architecture conditions hold for
 * `options` (so `mount` is allowed only with CAP_SYS_ADMIN, `reboot` only with CAP_SYS_BOOT…).
 * Pure: returns a new object each call.
 */
export function runtimeDefaultSeccompProfile(options: RuntimeDefaultSeccompOptions): OciSeccomp {
  const arch = options.arch ?? seccompNodeArch() ?? 'amd64';
  const caps = new Set(options.capabilities.map(normalizeCapability));
  const syscalls: OciSyscall[] = RUNTIME_DEFAULT_SECCOMP_RULES
    .filter(rule => applies(rule, caps, arch))
    .map(rule => ({
      names: [...rule.names],
      action: rule.action,
      ...(rule.errnoRet !== undefined ? { errnoRet: rule.errnoRet } : {}),
      ...(rule.args ? { args: rule.args.map(a => ({ ...a })) } : {}),
    }));
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    architectures: [...ARCHITECTURES[arch]],
    syscalls,
  };
}
