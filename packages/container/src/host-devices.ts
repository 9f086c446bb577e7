import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, NotFoundError } from '@crikit/core';
import type { HostDevice, HostDevices } from './spec/container-spec-input.js';

/** The host's device nodes, read with stat(2) (what the spec builder needs, without doing I/O itself). */
export class StatHostDevices implements HostDevices {
  lookup(p: string): readonly HostDevice[] {
    let real: string;
    try {
      real = fs.realpathSync(p);
    } catch {
      throw new NotFoundError(`device ${p}: no such file`);
    }
    const st = fs.statSync(real);
    if (st.isDirectory()) return walk(real);
    const dev = deviceOf(real, st);
    if (!dev) throw new InvalidArgumentError(`device ${p}: not a device node`);
    return [dev];
  }

  all(): readonly HostDevice[] {
    return walk('/dev');
  }
}

function walk(dir: string): HostDevice[] {
  const out: HostDevice[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    // containerd's getDevices skips the pts and shm subtrees and the console.
    if (e.isDirectory() && (e.name === 'pts' || e.name === 'shm' || e.name === 'fd' || e.name === 'mqueue')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.isCharacterDevice() || e.isBlockDevice()) {
      const dev = deviceOf(p, fs.statSync(p));
      if (dev && p !== '/dev/console') out.push(dev);
    }
  }
  return out;
}

function deviceOf(p: string, st: fs.Stats): HostDevice | undefined {
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : st.isFIFO() ? 'p' : undefined;
  if (!type) return undefined;
  // Linux encodes dev_t as major in bits 8-19 (+ high bits), minor in bits 0-7 and 20-31.
  const rdev = st.rdev;
  const major = ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
  return { path: p, type, major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}
