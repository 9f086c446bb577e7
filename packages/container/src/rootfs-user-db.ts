import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { types } from '@crikit/api';
import { UnavailableError } from '@crikit/core';
import { type UserDb } from '@crikit/oci';
import { readRootFile } from './rootfs-path.js';

const run = promisify(execFile);

/**
 * Where readRootfsUserDb mounts under crikit's state dir: what a crikitd killed meanwhile left mounted
 * there is swept at start-up (ContainerRecovery), never another crikitd's.
 */
export const rootfsMountsDir = (paths: { readonly stateDir: string }): string => path.join(paths.stateDir, 'rootfs-mounts');

/**
 * `/etc/passwd` and `/etc/group` of a container's rootfs, read by mounting its snapshot read-only
 * on a temporary dir under `parent` (as containerd's CRI does to resolve users), then unmounting it.
 * `signal` ends a mount that hangs.
 * @throws UnavailableError when the snapshot cannot be mounted
 */
export async function readRootfsUserDb(mounts: readonly types.Mount[], signal: AbortSignal, parent = os.tmpdir()): Promise<UserDb> {
  await fs.mkdir(parent, { recursive: true });
  const dir = await fs.mkdtemp(path.join(parent, 'crikit-rootfs-'));
  try {
    await mountAll(mounts, dir, signal);
    try {
      return await readUserDbAt(dir);
    } finally {
      await run('umount', [dir]).catch(() => run('umount', ['--lazy', dir]));
    }
  } finally {
    await fs.rmdir(dir).catch(() => undefined);
  }
}

/** The most of `/etc/passwd` or `/etc/group` read; a larger file counts as absent. */
export const userDbMaxBytes = 1024 * 1024;

/**
 * `/etc/passwd` and `/etc/group` of the root file system at `root`, resolved inside it (links
 * never reach the host) and read only when they are regular files of at most 1 MiB; undefined
 * where absent or refused.
 */
export async function readUserDbAt(root: string): Promise<UserDb> {
  const read = (p: string) => readRootFile(root, p, userDbMaxBytes).catch(() => undefined);
  return { passwd: await read('/etc/passwd'), group: await read('/etc/group') };
}

async function mountAll(mounts: readonly types.Mount[], target: string, signal: AbortSignal): Promise<void> {
  if (mounts.length !== 1) throw new UnavailableError(`read rootfs users: expected one rootfs mount, got ${mounts.length}`);
  const m = mounts[0]!;
  // Read-only: nothing in the rootfs may change, and an overlay upper dir is left alone. nodev: a
  // device node the image carries cannot be opened through this mount.
  const options = [...m.options.filter(o => o !== 'rw'), 'ro', 'nodev', 'nosuid', 'noexec'];
  const args = m.type === 'bind' ? ['--bind', '-o', options.join(','), m.source, target] : ['-t', m.type, '-o', options.join(','), m.source, target];
  try {
    await run('mount', args, { signal });
  } catch (err) {
    throw new UnavailableError(`read rootfs users: mount ${args.join(" ")}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`, { cause: err });
  }
}

/** Unmounts and removes every dir readRootfsUserDb left under `parent` (none may be in use). Resolves with them. */
export async function sweepRootfsMounts(parent: string): Promise<string[]> {
  const names = await fs.readdir(parent).catch(() => [] as string[]);
  const mountinfo = names.length > 0 ? await fs.readFile('/proc/self/mountinfo', 'utf8') : '';
  const mounted = new Set(mountinfo.split('\n').map(line => line.split(' ')[4]));
  for (const name of names) {
    const dir = path.join(parent, name);
    if (mounted.has(dir)) await run('umount', ['--lazy', dir]);
    await fs.rmdir(dir);
  }
  return names;
}
