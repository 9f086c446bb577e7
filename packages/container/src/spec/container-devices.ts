import { posix } from 'node:path';
import type { cri } from '@crikit/api';
import { InvalidArgumentError } from '@crikit/core';
import { type OciDevice, type OciDeviceCgroup } from '@crikit/oci';
import type { HostDevice, HostDevices } from './container-spec-input.js';

/** The device nodes runc creates in a container and the cgroup rules that let it open them. */
export interface ContainerDevices {
  readonly devices: OciDevice[];
  /** Rules appended after the default deny-all (privileged: the single allow-all rule). */
  readonly rules: OciDeviceCgroup[];
  /** True when `rules` replaces the default rules instead of extending them. */
  readonly replaceDefaultRules: boolean;
}

/** What `containerDevices` needs besides the CRI config. */
export interface DeviceContext {
  readonly host: HostDevices;
  readonly privileged: boolean;
  /** containerd's `device_ownership_from_security_context`. */
  readonly ownershipFromSecurityContext: boolean;
}

/**
 * Normalises CRI device permissions: any combination of `r`, `w`, `m`; '' means `rwm`.
 * @throws InvalidArgumentError on other letters
 */
export function devicePermissions(permissions: string): string {
  if (permissions === '') return 'rwm';
  if (!/^[rwm]{1,3}$/.test(permissions) || new Set(permissions).size !== permissions.length) {
    throw new InvalidArgumentError(`invalid device permissions "${permissions}"`);
  }
  return permissions;
}

const toOci = (dev: HostDevice, path: string, owner: { uid?: number; gid?: number }): OciDevice => ({
  type: dev.type, path, major: dev.major, minor: dev.minor, fileMode: dev.fileMode,
  uid: owner.uid ?? dev.uid, gid: owner.gid ?? dev.gid,
});

const allowRule = (dev: HostDevice, access: string): OciDeviceCgroup[] =>
  // Fifos are not governed by the device cgroup.
  (dev.type === 'p' ? [] : [{ allow: true, type: dev.type, major: dev.major, minor: dev.minor, access }]);

/**
 * The devices of a container (containerd's `WithDevices`, `WithHostDevices`):
 * - unprivileged: each CRI Device, looked up on the host (a directory gives every node below it,
 *   placed below the container path), becomes a `linux.devices` entry and an allow rule with its
 *   permissions;
 * - privileged: every host device under /dev at its own path, and one rule allowing all devices.
 * With `ownershipFromSecurityContext`, a non-zero run_as_user/run_as_group owns the nodes.
 * @throws InvalidArgumentError on bad permissions or a relative container path; what `host.lookup` throws
 */
export function containerDevices(config: cri.ContainerConfig, context: DeviceContext): ContainerDevices {
  const sc = config.linux?.securityContext;
  const owner: { uid?: number; gid?: number } = {};
  if (context.ownershipFromSecurityContext) {
    const uid = Number(sc?.runAsUser?.value ?? 0n);
    const gid = Number(sc?.runAsGroup?.value ?? 0n);
    if (uid !== 0) owner.uid = uid;
    if (gid !== 0) owner.gid = gid;
  }
  if (context.privileged) {
    // containerd: `WithHostDevices` + `WithAllDevicesAllowed`.
    const devices = context.host.all().map(dev => toOci(dev, dev.path, owner));
    return { devices, rules: [{ allow: true, access: 'rwm' }], replaceDefaultRules: true };
  }
  const devices: OciDevice[] = [];
  const rules: OciDeviceCgroup[] = [];
  for (const requested of config.devices) {
    const access = devicePermissions(requested.permissions);
    const target = requested.containerPath || requested.hostPath;
    if (!posix.isAbsolute(target)) throw new InvalidArgumentError(`device container path "${target}" is not absolute`);
    for (const dev of context.host.lookup(requested.hostPath)) {
      // A directory's nodes keep their place below it, e.g. /dev/snd/pcmC0D0p → <container path>/pcmC0D0p.
      const relative = posix.relative(requested.hostPath, dev.path);
      const path = relative === '' ? target : posix.join(target, relative);
      devices.push(toOci(dev, path, owner));
      rules.push(...allowRule(dev, access));
    }
  }
  return { devices, rules, replaceDefaultRules: false };
}
