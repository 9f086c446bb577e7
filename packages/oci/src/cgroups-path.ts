import { posix } from 'node:path';

/** How the node names cgroups; must match the kubelet's `cgroupDriver`. */
export type CgroupDriverName = 'cgroupfs' | 'systemd';

/**
 * The `linux.cgroupsPath` of a sandbox or container under the cgroup parent the kubelet chose.
 * - cgroupfs: `<parent>/<id>` (a path below the cgroup root);
 * - systemd: runc's `slice:prefix:name` form, `<last slice of parent>:cri-containerd:<id>`, which
 *   makes runc create the scope `cri-containerd-<id>.scope` in that slice (containerd: `getCgroupsPath`;
 *   the `cri-containerd` prefix keeps tools that look for containerd's scopes working).
 * containerd picks the form from the parent's shape (a `.slice` suffix means systemd); crikit takes
 * the configured driver, and falls back to the path form when a systemd parent is not a slice.
 * Without a parent (crictl, tests) cgroupfs gets containerd's default `/<containerd namespace>/<id>`
 * and systemd gets none, which runc turns into `system.slice:runc:<id>`.
 */
export function cgroupsPathFor(parent: string, id: string, driver: CgroupDriverName, namespace = 'k8s.io'): string | undefined {
  if (parent === '') return driver === 'cgroupfs' ? `/${namespace}/${id}` : undefined;
  const base = posix.basename(parent);
  if (driver === 'systemd' && base.endsWith('.slice')) return `${base}:cri-containerd:${id}`;
  return posix.join(parent, id);
}
