import { InvalidArgumentError } from '@crikit/core';
import type { OciCapabilities } from './oci-spec.js';

/** Every Linux capability up to CAP_CHECKPOINT_RESTORE (kernel 5.9), in kernel order (index = number). */
export const LINUX_CAPABILITIES: readonly string[] = Object.freeze([
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
  'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
]);

/** The capabilities a container gets unless its config says otherwise (containerd: `defaultUnixCaps`). */
export const DEFAULT_CAPABILITIES: readonly string[] = Object.freeze([
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL',
  'CAP_AUDIT_WRITE',
]);

/**
 * The capabilities the running kernel knows: those numbered up to `lastCap`
 * (`/proc/sys/kernel/cap_last_cap`). Without `lastCap`, all of `LINUX_CAPABILITIES`.
 */
export function knownCapabilities(lastCap?: number): readonly string[] {
  return lastCap === undefined ? LINUX_CAPABILITIES : LINUX_CAPABILITIES.slice(0, Math.max(0, lastCap + 1));
}

/**
 * Writes a capability the way the OCI spec wants it: upper case, `CAP_` prefixed.
 * The CRI sends names without the prefix (`NET_ADMIN`); both forms are accepted.
 * A name the kernel may know but this list does not (a newer capability) is kept: runc warns and ignores it.
 * @throws InvalidArgumentError when the name is not of the form `[CAP_]NAME`
 */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!/^CAP_[A-Z][A-Z0-9_]*$/.test(full)) throw new InvalidArgumentError(`invalid capability "${name}"`);
  return full;
}

/** What the CRI asks to change in a container's capabilities (`Capability.add_capabilities`, `drop_capabilities`). */
export interface CapabilityChanges {
  readonly add?: readonly string[] | undefined;
  readonly drop?: readonly string[] | undefined;
}

const isAll = (name: string): boolean => name.trim().toUpperCase() === 'ALL';

/**
 * Applies the CRI's add/drop lists to `base`, in containerd's order: `add: [ALL]` first grants every
 * capability in `all`, then `drop: [ALL]` removes every one, then single names are added, then single
 * names are dropped. So `add: [ALL], drop: [CHOWN]` is everything but CHOWN, and
 * `drop: [ALL], add: [NET_BIND_SERVICE]` is only NET_BIND_SERVICE. The result keeps `base`'s order,
 * with additions appended, and has no duplicates.
 * @throws InvalidArgumentError on a malformed name
 */
export function applyCapabilityChanges(
  base: readonly string[], changes: CapabilityChanges, all: readonly string[] = LINUX_CAPABILITIES,
): string[] {
  const add = changes.add ?? [];
  const drop = changes.drop ?? [];
  // containerd: "ALL" is handled before single names so that both can be combined.
  let caps = add.some(isAll) ? [...all] : base.map(normalizeCapability);
  if (drop.some(isAll)) caps = [];
  for (const name of add.filter(n => !isAll(n)).map(normalizeCapability)) {
    if (!caps.includes(name)) caps.push(name);
  }
  const dropped = new Set(drop.filter(n => !isAll(n)).map(normalizeCapability));
  return [...new Set(caps)].filter(c => !dropped.has(c));
}

/**
 * The capability names whose bits are set in a `/proc/<pid>/status` mask such as `CapBnd:
 * 000001fffeffffff`, in kernel order. Bits this list has no name for (a capability newer than
 * CAP_CHECKPOINT_RESTORE) are left out, as containerd's `cap.FromBitmap` does.
 * @throws InvalidArgumentError when `hex` is not a hexadecimal number
 */
export function capabilitiesFromMask(hex: string): string[] {
  const text = hex.trim();
  if (!/^[0-9a-fA-F]{1,16}$/.test(text)) throw new InvalidArgumentError(`invalid capability mask "${hex}"`);
  const mask = BigInt(`0x${text}`);
  return LINUX_CAPABILITIES.filter((_name, bit) => ((mask >> BigInt(bit)) & 1n) === 1n);
}

/**
 * The bounding set (`CapBnd`) of a `/proc/<pid>/status` text, as names; undefined when the text has
 * no CapBnd line. A root process can grant a child exactly these, so they are what the runtime holds.
 * @throws InvalidArgumentError on a malformed CapBnd value
 */
export function boundingCapabilitiesOf(statusText: string): string[] | undefined {
  const line = /^CapBnd:\s*(\S+)\s*$/m.exec(statusText);
  return line ? capabilitiesFromMask(line[1]!) : undefined;
}

/** What the CRI asks of a container's capabilities, and what the runtime can grant. */
export interface ContainerCapabilityRequest {
  /** A privileged container gets all of `host`, whatever add/drop say (containerd's `WithPrivileged`). */
  readonly privileged: boolean;
  readonly changes: CapabilityChanges;
  /** The capabilities the runtime holds (its bounding set): `ALL` means these, and only these may be named. */
  readonly host: readonly string[];
}

/**
 * The capabilities of a container, as containerd's CRI grants them: privileged → every capability
 * the runtime holds; otherwise the defaults changed by add/drop (`applyCapabilityChanges`, with
 * `ALL` = what the runtime holds). Names may come with or without `CAP_`, in any case. A capability
 * named in `add_capabilities` that the runtime does not hold is refused here, where containerd
 * would hand it to runc and fail at start ("unable to apply caps").
 * @throws InvalidArgumentError naming the capability and the field, or on a malformed name
 */
export function containerCapabilities(request: ContainerCapabilityRequest): string[] {
  if (request.privileged) return [...request.host];
  const held = new Set(request.host);
  for (const name of (request.changes.add ?? []).filter(n => !isAll(n))) {
    const cap = normalizeCapability(name);
    if (!held.has(cap)) {
      throw new InvalidArgumentError(
        `linux.security_context.capabilities.add_capabilities: ${cap} is not in the runtime's bounding set (this host withholds it or the kernel does not know it)`);
    }
  }
  return applyCapabilityChanges(DEFAULT_CAPABILITIES, request.changes, request.host);
}

/**
 * The OCI capability sets for a process holding `caps`: bounding, effective and permitted.
 * Inheritable and ambient stay empty: containerd clears them (CVE-2022-24769; kubernetes#56374).
 */
export function capabilitySets(caps: readonly string[]): OciCapabilities {
  return { bounding: [...caps], effective: [...caps], permitted: [...caps] };
}
