import type { Dirent, Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { cri } from '@crikit/api';
import { InvalidArgumentError, NotFoundError } from '@crikit/core';
import type { HostDevice, HostDevices } from './spec/container-spec-input.js';

/** How deep below a device directory the walk goes (containerd's /dev/snd, /dev/dri, /dev/bus/usb/001 are 1–3). */
export const MAX_DEVICE_DEPTH = 8;
/** How many directory entries one walk may look at before it gives up. */
export const MAX_DEVICE_ENTRIES = 4096;

/**
 * The host's device nodes, read with stat(2) through libuv's thread pool, so a slow or huge tree
 * never blocks the event loop. A walk is bounded in depth and entries, and never follows a
 * symlink below the starting point: a `host_path` of `/` or a bind-mount loop fails with
 * InvalidArgumentError instead of walking the host.
 */
export class StatHostDevices {
  /**
   * The device node at `p` (symlinks resolved), or every node below it when it is a directory.
   * @throws NotFoundError when nothing is there, InvalidArgumentError when it is not a device or the tree is too large
   */
  async lookup(p: string): Promise<HostDevice[]> {
    let real: string;
    try {
      real = await fs.realpath(p);
    } catch {
      throw new NotFoundError(`device ${p}: no such file`);
    }
    const st = await fs.stat(real);
    if (st.isDirectory()) return walk(real, p);
    const dev = deviceOf(real, st);
    if (!dev) throw new InvalidArgumentError(`device ${p}: not a device node`);
    return [dev];
  }

  /** Every device node under the host's /dev, which privileged containers get. */
  all(): Promise<HostDevice[]> {
    return walk('/dev', '/dev');
  }
}

/**
 * Looks up every device `config` names (and, for a privileged container, the host's /dev) ahead of
 * the spec build, which is pure and synchronous. A failed lookup is kept and thrown when the
 * builder asks for that path, so errors come out where they did.
 */
export async function prepareHostDevices(host: StatHostDevices, config: cri.ContainerConfig): Promise<HostDevices> {
  const found = new Map<string, readonly HostDevice[] | Error>();
  for (const d of config.devices) {
    if (found.has(d.hostPath)) continue;
    found.set(d.hostPath, await host.lookup(d.hostPath).catch((err: Error) => err));
  }
  const all = config.linux?.securityContext?.privileged ? await host.all() : undefined;
  return {
    lookup: p => {
      const got = found.get(p);
      if (got === undefined) throw new NotFoundError(`device ${p}: not looked up`);
      if (got instanceof Error) throw got;
      return got;
    },
    all: () => {
      if (!all) throw new InvalidArgumentError('host devices: only a privileged container gets them all');
      return all;
    },
  };
}

async function walk(root: string, asked: string): Promise<HostDevice[]> {
  const out: HostDevice[] = [];
  let entries = 0;
  const visit = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEVICE_DEPTH) throw new InvalidArgumentError(`device ${asked}: nested deeper than ${MAX_DEVICE_DEPTH} directories`);
    let list: Dirent[];
    try {
      list = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw new InvalidArgumentError(`device ${asked}: read ${dir}`, { cause: err });
    }
    entries += list.length;
    if (entries > MAX_DEVICE_ENTRIES) throw new InvalidArgumentError(`device ${asked}: more than ${MAX_DEVICE_ENTRIES} entries below it`);
    for (const e of list) {
      // containerd's getDevices skips the pts and shm subtrees and the console.
      if (e.isDirectory() && (e.name === 'pts' || e.name === 'shm' || e.name === 'fd' || e.name === 'mqueue')) continue;
      const p = path.join(dir, e.name);
      // Dirent types come from readdir without following links: a symlinked directory is not entered.
      if (e.isDirectory()) await visit(p, depth + 1);
      else if (e.isCharacterDevice() || e.isBlockDevice()) {
        const dev = deviceOf(p, await fs.stat(p));
        if (dev && p !== '/dev/console') out.push(dev);
      }
    }
  };
  await visit(root, 1);
  return out;
}

function deviceOf(p: string, st: Stats): HostDevice | undefined {
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : st.isFIFO() ? 'p' : undefined;
  if (!type) return undefined;
  // Linux encodes dev_t as major in bits 8-19 (+ high bits), minor in bits 0-7 and 20-31.
  const rdev = st.rdev;
  const major = ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
  return { path: p, type, major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}
