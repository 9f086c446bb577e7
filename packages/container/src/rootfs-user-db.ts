import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { types } from '@crikit/api';
import { UnavailableError, type UserDb } from '@crikit/core';

const run = promisify(execFile);

/**
 * `/etc/passwd` and `/etc/group` of a container's rootfs, read by mounting its snapshot read-only
 * on a temporary dir (as containerd's CRI does to resolve users), then unmounting it.
 * @throws UnavailableError when the snapshot cannot be mounted
 */
export async function readRootfsUserDb(mounts: readonly types.Mount[]): Promise<UserDb> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'crikit-rootfs-'));
  try {
    await mountAll(mounts, dir);
    try {
      const read = (p: string) => fs.readFile(path.join(dir, p), 'utf8').catch(() => undefined);
      return { passwd: await read('etc/passwd'), group: await read('etc/group') };
    } finally {
      await run('umount', [dir]).catch(() => run('umount', ['--lazy', dir]));
    }
  } finally {
    await fs.rmdir(dir).catch(() => undefined);
  }
}

async function mountAll(mounts: readonly types.Mount[], target: string): Promise<void> {
  if (mounts.length !== 1) throw new UnavailableError(`read rootfs users: expected one rootfs mount, got ${mounts.length}`);
  const m = mounts[0]!;
  // Read-only: nothing in the rootfs may change, and an overlay upper dir is left alone.
  const options = [...m.options.filter(o => o !== 'rw'), 'ro'];
  const args = m.type === 'bind' ? ['--bind', '-o', options.join(','), m.source, target] : ['-t', m.type, '-o', options.join(','), m.source, target];
  try {
    await run('mount', args);
  } catch (err) {
    throw new UnavailableError(`read rootfs users: mount ${args.join(" ")}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`, { cause: err });
  }
}
