import fs from 'node:fs/promises';
import type { types } from '@crikit/api';
import { UnavailableError, type ProcessRunner } from '@crikit/core';
import { parseMountinfo } from './host-mounts.js';

/** How long one `mount` or `umount` of an image volume may take. */
const mountTimeoutMs = 30_000;

/**
 * Mounts a snapshot (its one mount from containerd: a bind of a single layer or an overlay of
 * lower dirs) read-only on `target`, with `mount` run by `runner` (crikitd's spawn helper).
 * @throws UnavailableError naming the mount and the cause
 */
export async function mountReadOnly(runner: ProcessRunner, mounts: readonly types.Mount[], target: string, signal: AbortSignal): Promise<void> {
  if (mounts.length !== 1) throw new UnavailableError(`mount image volume on ${target}: expected one snapshot mount, got ${mounts.length}`);
  const m = mounts[0]!;
  const options = [...m.options.filter(o => o !== 'rw' && o !== 'ro'), 'ro'].join(',');
  // util-linux makes a read-only bind in two steps (bind, then remount ro), as the kernel needs.
  const args = m.type === 'bind' ? ['--bind', '-o', options, m.source, target] : ['-t', m.type, '-o', options, m.source, target];
  const doing = `mount image volume on ${target}`;
  const out = await runner.run({ file: 'mount', args, timeoutMs: mountTimeoutMs, doing }, signal);
  if (out.code !== 0) throw new UnavailableError(`${doing}: mount ${args.join(' ')}: ${out.stderr.trim() || `exit status ${out.code ?? out.signal}`}`);
}

/**
 * Unmounts `target` when something is mounted there (lazily when it is busy), with `umount` run by
 * `runner`. Idempotent.
 * @throws UnavailableError when it stays mounted
 */
export async function unmount(runner: ProcessRunner, target: string, signal: AbortSignal): Promise<void> {
  if (!(await isMountPoint(target))) return;
  const doing = `unmount image volume ${target}`;
  const out = await runner.run({ file: 'umount', args: [target], timeoutMs: mountTimeoutMs, doing }, signal);
  if (out.code === 0) return;
  const lazy = await runner.run({ file: 'umount', args: ['--lazy', target], timeoutMs: mountTimeoutMs, doing }, signal);
  if (lazy.code !== 0) throw new UnavailableError(`${doing}: ${out.stderr.trim() || `exit status ${out.code ?? out.signal}`}`);
}

/** Whether `target` (resolved) is a mount point in crikit's mount namespace. False when it is missing. */
export async function isMountPoint(target: string): Promise<boolean> {
  const real = await fs.realpath(target).catch(() => undefined);
  if (!real) return false;
  return parseMountinfo(await fs.readFile('/proc/self/mountinfo', 'utf8')).some(i => i.mountPoint === real);
}
