import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import type { types } from '@crikit/api';
import { InvalidArgumentError, UnavailableError } from '@crikit/core';

const run = promisify(execFile);

/** What applying a layer did. */
export interface AppliedDiff {
  /** Members written or removed. */
  readonly applied: number;
  /** Members of a kind not restored (device nodes, FIFOs). */
  readonly skipped: number;
}

/** What to change in a restored container's rootfs. */
export interface RootfsChanges {
  /** `rootfs-diff.tar`: an OCI layer, plain or gzip (OCI whiteouts remove files). */
  readonly layer?: string | undefined;
  /** `deleted.files`' paths (CRI-O and Podman list deletions there instead of whiteouts). */
  readonly deleted?: readonly string[] | undefined;
}

/**
 * Applies a checkpoint's rootfs changes onto a container's snapshot: the snapshot is mounted
 * read-write on a temporary dir, the listed deletions are made and the layer is unpacked into it,
 * and it is unmounted.
 * @throws UnavailableError when the snapshot cannot be mounted; InvalidArgumentError for a bad layer
 */
export async function applyRootfsDiff(changes: RootfsChanges, mounts: readonly types.Mount[], signal: AbortSignal): Promise<AppliedDiff> {
  return withMountedRootfs(mounts, { readOnly: false }, signal, async dir => {
    let removed = 0;
    for (const file of changes.deleted ?? []) if (await removeInRoot(dir, file)) removed++;
    const applied = changes.layer ? await applyLayer(changes.layer, dir, signal) : { applied: 0, skipped: 0 };
    return { applied: applied.applied + removed, skipped: applied.skipped };
  });
}

/**
 * Runs `fn` with a snapshot's `mounts` mounted on a temporary dir (read-only, nodev, nosuid and
 * noexec when `readOnly`), then unmounts it.
 * @throws UnavailableError when the snapshot cannot be mounted
 */
export async function withMountedRootfs<T>(mounts: readonly types.Mount[], options: { readOnly: boolean }, signal: AbortSignal, fn: (dir: string) => Promise<T>): Promise<T> {
  if (mounts.length !== 1) throw new UnavailableError(`mount rootfs: expected one mount, got ${mounts.length}`);
  const m = mounts[0]!;
  const mountOptions = options.readOnly ? [...m.options.filter(o => o !== 'rw'), 'ro', 'nodev', 'nosuid', 'noexec'] : [...m.options];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'crikit-restore-'));
  try {
    const args = m.type === 'bind' ? ['--bind', '-o', mountOptions.join(','), m.source, dir] : ['-t', m.type, '-o', mountOptions.join(','), m.source, dir];
    await run('mount', args, { signal }).catch(err => {
      throw new UnavailableError(`mount rootfs: mount ${args.join(' ')}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`, { cause: err });
    });
    try {
      return await fn(dir);
    } finally {
      await run('umount', [dir]).catch(() => run('umount', ['--lazy', dir]));
    }
  } finally {
    await fs.rmdir(dir).catch(() => undefined);
  }
}

/**
 * Unpacks the OCI layer tar `layer` into the directory `root`. Nothing is written outside `root`:
 * names that climb out are refused, and a symbolic link is never followed on the way to a member.
 */
export async function applyLayer(layer: string, root: string, signal: AbortSignal): Promise<AppliedDiff> {
  const gzip = await isGzip(layer);
  const extract = tarExtract();
  const source = (gzip ? pipeline(createReadStream(layer), createGunzip(), extract, { signal }) : pipeline(createReadStream(layer), extract, { signal }))
    .catch(err => { throw new InvalidArgumentError(`rootfs diff: ${(err as Error).message}`, { cause: err }); });
  let applied = 0;
  let skipped = 0;
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const rel = h.name.replace(/^(\.?\/)+/, '').replace(/\/+$/, '');
      if (rel === '' || rel === '.') { entry.resume(); continue; }
      if (rel.split('/').includes('..')) throw new InvalidArgumentError(`rootfs diff: member "${h.name}" leaves the rootfs`);
      const parent = await ensureDir(root, path.dirname(rel));
      const base = path.basename(rel);
      if (base === '.wh..wh..opq') {
        // An opaque directory: what the image had in it is hidden.
        for (const child of await fs.readdir(parent)) await fs.rm(path.join(parent, child), { recursive: true, force: true });
        entry.resume();
        applied++;
        continue;
      }
      if (base.startsWith('.wh.')) {
        await fs.rm(path.join(parent, base.slice(4)), { recursive: true, force: true });
        entry.resume();
        applied++;
        continue;
      }
      const target = path.join(parent, base);
      if (await writeMember(root, target, h, entry as unknown as Readable)) applied++;
      else { skipped++; entry.resume(); }
    }
    await source;
  } catch (err) {
    extract.destroy();
    await source.catch(() => undefined);
    throw err;
  }
  return { applied, skipped };
}

type Header = { type?: string | null; mode?: number | null; uid?: number | null; gid?: number | null; mtime?: Date | null; linkname?: string | null; name: string };

/** Writes one member at `target`; false for a kind that is not restored. */
async function writeMember(root: string, target: string, h: Header, body: Readable): Promise<boolean> {
  const existing = await fs.lstat(target).catch(() => undefined);
  const mode = (h.mode ?? 0o644) & 0o7777;
  switch (h.type) {
    case 'directory':
      if (!existing?.isDirectory()) {
        if (existing) await fs.rm(target, { recursive: true, force: true });
        await fs.mkdir(target);
      }
      break;
    case 'file':
      if (existing) await fs.rm(target, { recursive: true, force: true });
      await pipeline(body, createWriteStream(target, { mode, flags: 'wx' }));
      break;
    case 'symlink':
      if (existing) await fs.rm(target, { recursive: true, force: true });
      await fs.symlink(h.linkname ?? '', target);
      break;
    case 'link': {
      const linkRel = (h.linkname ?? '').replace(/^(\.?\/)+/, '');
      if (linkRel.split('/').includes('..')) throw new InvalidArgumentError(`rootfs diff: hard link "${h.name}" leaves the rootfs`);
      const source = path.join(await ensureDir(root, path.dirname(linkRel)), path.basename(linkRel));
      if (existing) await fs.rm(target, { recursive: true, force: true });
      await fs.link(source, target);
      return true;
    }
    default:
      return false;
  }
  await fs.lchown(target, h.uid ?? 0, h.gid ?? 0);
  if (h.type !== 'symlink') await fs.chmod(target, mode);
  if (h.mtime) await fs.lutimes(target, h.mtime, h.mtime);
  return true;
}

/**
 * Removes `file` (a path inside the rootfs) under `root`; a path that climbs out or goes through a
 * link is left alone. True when something was removed.
 */
export async function removeInRoot(root: string, file: string): Promise<boolean> {
  const parts = file.split('/').filter(p => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..')) return false;
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    if (!(await fs.lstat(dir).catch(() => undefined))?.isDirectory()) return false;
  }
  const target = path.join(dir, parts[parts.length - 1]!);
  if (!(await fs.lstat(target).catch(() => undefined))) return false;
  await fs.rm(target, { recursive: true, force: true });
  return true;
}

/** `root/rel` as a directory, made where missing; refuses a path through a symbolic link or a non-directory. */
async function ensureDir(root: string, rel: string): Promise<string> {
  let dir = root;
  for (const part of rel.split('/').filter(p => p !== '' && p !== '.')) {
    dir = path.join(dir, part);
    const st = await fs.lstat(dir).catch(() => undefined);
    if (!st) await fs.mkdir(dir, { mode: 0o755 });
    else if (!st.isDirectory()) throw new InvalidArgumentError(`rootfs diff: ${path.relative(root, dir)} is not a directory (a link is never followed)`);
  }
  return dir;
}

async function isGzip(file: string): Promise<boolean> {
  const handle = await fs.open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}
