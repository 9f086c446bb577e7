import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import type { types } from '@crikit/api';
import { UnavailableError } from '@crikit/core';
import { parseMountinfo } from './host-mounts.js';

const run = promisify(execFile);
const stderrOf = (err: unknown): string => (err as { stderr?: string }).stderr?.trim() || (err as Error).message;

/**
 * Mounts a snapshot (its one mount from containerd: a bind of a single layer or an overlay of
 * lower dirs) read-only on `target`. `signal` ends a mount that hangs.
 * @throws UnavailableError naming the mount and the cause
 */
export async function mountReadOnly(mounts: readonly types.Mount[], target: string, signal: AbortSignal): Promise<void> {
  if (mounts.length !== 1) throw new UnavailableError(`mount image volume on ${target}: expected one snapshot mount, got ${mounts.length}`);
  const m = mounts[0]!;
  const options = [...m.options.filter(o => o !== 'rw' && o !== 'ro'), 'ro'].join(',');
  // util-linux makes a read-only bind in two steps (bind, then remount ro), as the kernel needs.
  const args = m.type === 'bind' ? ['--bind', '-o', options, m.source, target] : ['-t', m.type, '-o', options, m.source, target];
  try {
    await run('mount', args, { signal });
  } catch (err) {
    throw new UnavailableError(`mount image volume: mount ${args.join(' ')}: ${stderrOf(err)}`, { cause: err });
  }
}

/** Unmounts `target` when something is mounted there (a busy one lazily). Idempotent. */
export async function unmount(target: string): Promise<void> {
  if (!(await isMountPoint(target))) return;
  try {
    await run('umount', [target]);
  } catch (err) {
    await run('umount', ['--lazy', target]).catch(() => {
      throw new UnavailableError(`unmount image volume ${target}: ${stderrOf(err)}`, { cause: err });
    });
  }
}

/** Whether `target` (resolved) is a mount point in crikit's mount namespace. False when it is missing. */
export async function isMountPoint(target: string): Promise<boolean> {
  const real = await fs.realpath(target).catch(() => undefined);
  if (!real) return false;
  return parseMountinfo(await fs.readFile('/proc/self/mountinfo', 'utf8')).some(i => i.mountPoint === real);
}
