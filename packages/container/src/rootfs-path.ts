import fs from 'node:fs/promises';
import path from 'node:path';

/** How many symlinks one resolution may follow (Linux's own limit is 40 per lookup). */
const maxLinks = 255;
const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/**
 * `unsafePath` resolved inside `root`, as if `root` were `/`: every symlink is followed within
 * `root` (an absolute target starts again at `root`) and `..` never climbs above it, as
 * containerd's `fs.RootPath` does
 * (https://github.com/containerd/continuity/blob/main/fs/path.go). A missing component ends the
 * walk; the rest is joined lexically. Undefined after more than 255 links (a loop).
 */
export async function resolveInRoot(root: string, unsafePath: string): Promise<string | undefined> {
  const resolved: string[] = [];
  let pending = split(unsafePath);
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') { resolved.pop(); continue; }
    const candidate = path.join(root, ...resolved, part);
    const stat = await fs.lstat(candidate).catch(() => undefined);
    if (!stat) return path.join(candidate, ...pending.filter(p => p !== '..'));
    if (!stat.isSymbolicLink()) { resolved.push(part); continue; }
    if (++links > maxLinks) return undefined;
    const target = await fs.readlink(candidate);
    if (path.isAbsolute(target)) resolved.length = 0;
    pending = [...split(target), ...pending];
  }
  return path.join(root, ...resolved);
}

/**
 * The text of the regular file at `unsafePath` inside `root` (see `resolveInRoot`), or undefined
 * when it is missing, not a regular file (device, FIFO, socket, directory) or larger than
 * `maxBytes`. The open neither follows a last link nor blocks, so no thread waits on a device.
 */
export async function readRootFile(root: string, unsafePath: string, maxBytes: number): Promise<string | undefined> {
  const file = await resolveInRoot(root, unsafePath);
  if (!file) return undefined;
  const handle = await fs.open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch(() => undefined);
  if (!handle) return undefined;
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > maxBytes) return undefined;
    // Read at most one byte past the cap, so a file that grows after the stat is caught too.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return length > maxBytes ? undefined : buffer.subarray(0, length).toString('utf8');
  } finally {
    await handle.close();
  }
}

function split(p: string): string[] {
  return p.split('/').filter(part => part !== '' && part !== '.');
}
