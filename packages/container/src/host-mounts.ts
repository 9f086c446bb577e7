import fs from 'node:fs/promises';
import { cri } from '@crikit/api';
import { FailedPreconditionError } from '@crikit/core';

/**
 * Readies the host side of a container's CRI mounts, as containerd's CRI does before building the
 * spec: a missing host path is created as a directory, and a propagation mode is refused when the
 * host mount under the path cannot carry it (bidirectional needs a shared mount, host-to-container
 * a shared or slave one).
 * @throws FailedPreconditionError naming the path and its mount
 */
export async function prepareHostMounts(mounts: readonly cri.Mount[], what: string): Promise<void> {
  let mountinfo: MountInfo[] | undefined;
  for (const m of mounts) {
    if (!m.hostPath) continue;
    await fs.mkdir(m.hostPath, { recursive: true }).catch(err => { if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; });
    if (m.propagation !== cri.MountPropagation.PROPAGATION_BIDIRECTIONAL && m.propagation !== cri.MountPropagation.PROPAGATION_HOST_TO_CONTAINER) continue;
    mountinfo ??= parseMountinfo(await fs.readFile('/proc/self/mountinfo', 'utf8'));
    const real = await fs.realpath(m.hostPath);
    const under = mountinfo.filter(i => real === i.mountPoint || real.startsWith(i.mountPoint === '/' ? '/' : `${i.mountPoint}/`))
      .sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
    const shared = under?.optional.some(o => o.startsWith('shared:')) ?? false;
    const slave = under?.optional.some(o => o.startsWith('master:')) ?? false;
    if (m.propagation === cri.MountPropagation.PROPAGATION_BIDIRECTIONAL && !shared) {
      throw new FailedPreconditionError(`${what}: ${m.hostPath} is on mount ${under?.mountPoint}, which is not shared: bidirectional propagation needs a shared mount`);
    }
    if (m.propagation === cri.MountPropagation.PROPAGATION_HOST_TO_CONTAINER && !shared && !slave) {
      throw new FailedPreconditionError(`${what}: ${m.hostPath} is on mount ${under?.mountPoint}, which is private: host-to-container propagation needs a shared or slave mount`);
    }
  }
}

/** One line of /proc/self/mountinfo: the mount point and its optional fields (`shared:N`, `master:N`). */
export interface MountInfo { readonly mountPoint: string; readonly optional: string[] }

/** The lines of a /proc/<pid>/mountinfo text, mount points unescaped. */
export function parseMountinfo(text: string): MountInfo[] {
  return text.split('\n').filter(Boolean).map(line => {
    const fields = line.split(' ');
    const sep = fields.indexOf('-');
    return { mountPoint: unescape(fields[4] ?? ''), optional: fields.slice(6, sep) };
  });
}

// mountinfo escapes spaces, tabs, newlines and backslashes as octal.
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
