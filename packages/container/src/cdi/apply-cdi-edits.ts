import { posix } from 'node:path';
import { mergeEnv, type OciDevice, type OciHook, type OciMount, type OciSpec } from '@crikit/oci';
import type { CdiHook } from './cdi-spec.js';
import type { ResolvedCdiEdits } from './cdi-registry.js';

/**
 * Applies resolved CDI edits to a container's OCI spec, in place, as the CDI reference library's
 * `ContainerEdits.Apply` does for each set of edits in turn:
 * - env: each `NAME=value` replaces that variable or is appended;
 * - device nodes: replace any device at the same path; owned by the process's uid/gid when the
 *   spec names none and the process is not root; block and char nodes get a device cgroup allow
 *   rule with their permissions (`rwm` by default);
 * - mounts: replace any mount at the same container path; then every mount is ordered by depth
 *   of its destination, so a parent is mounted before what lies below it;
 * - hooks: appended to their OCI hook list;
 * - additionalGids: added to the process's groups (0 ignored), sorted and deduplicated.
 * Pure apart from mutating `spec`.
 */
export function applyCdiEdits(spec: OciSpec, resolved: ResolvedCdiEdits): OciSpec {
  for (const e of resolved.edits) {
    if (e.env?.length) spec.process = { ...spec.process!, env: mergeEnv(spec.process?.env ?? [], e.env) };
    for (const node of e.deviceNodes ?? []) {
      const user = spec.process?.user;
      const device: OciDevice = {
        type: node.type, path: node.path,
        ...(node.type !== 'p' ? { major: node.major, minor: node.minor } : {}),
        ...(node.fileMode !== undefined ? { fileMode: node.fileMode } : {}),
        ...(node.uid !== undefined ? { uid: node.uid } : user && user.uid > 0 ? { uid: user.uid } : {}),
        ...(node.gid !== undefined ? { gid: node.gid } : user && user.gid > 0 ? { gid: user.gid } : {}),
      };
      const linux = (spec.linux ??= {});
      linux.devices = [...(linux.devices ?? []).filter(d => d.path !== node.path), device];
      if (node.type === 'b' || node.type === 'c') {
        const resources = (linux.resources ??= {});
        resources.devices = [...(resources.devices ?? []), { allow: true, type: node.type, major: node.major, minor: node.minor, access: node.permissions || 'rwm' }];
      }
    }
    if (e.mounts?.length) {
      let mounts = spec.mounts ?? [];
      for (const m of e.mounts) {
        const mount: OciMount = {
          destination: m.containerPath, source: m.hostPath,
          ...(m.type !== undefined ? { type: m.type } : {}),
          ...(m.options !== undefined ? { options: [...m.options] } : {}),
        };
        mounts = [...mounts.filter(x => x.destination !== m.containerPath), mount];
      }
      spec.mounts = orderMounts(mounts);
    }
    for (const h of e.hooks ?? []) {
      const hooks = (spec.hooks ??= {});
      (hooks[h.hookName] ??= []).push(ociHook(h));
    }
    const gids = (e.additionalGids ?? []).filter(g => g !== 0);
    if (gids.length > 0 && spec.process) {
      const merged = new Set([...(spec.process.user.additionalGids ?? []), ...gids]);
      spec.process.user = { ...spec.process.user, additionalGids: [...merged].sort((a, b) => a - b) };
    }
  }
  return spec;
}

function ociHook(h: CdiHook): OciHook {
  return {
    path: h.path,
    ...(h.args !== undefined ? { args: [...h.args] } : {}),
    ...(h.env !== undefined ? { env: [...h.env] } : {}),
    ...(h.timeout !== undefined ? { timeout: h.timeout } : {}),
  };
}

/** Mounts by number of path separators in their cleaned destination, then by destination (CDI's `orderedMounts`). */
function orderMounts(mounts: readonly OciMount[]): OciMount[] {
  const depth = (m: OciMount) => (posix.normalize(m.destination).match(/\//g) ?? []).length;
  return [...mounts].sort((a, b) => depth(a) - depth(b) || (a.destination < b.destination ? -1 : a.destination > b.destination ? 1 : 0));
}
