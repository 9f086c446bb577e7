import fs from 'node:fs';
import path from 'node:path';
import { containerdPeek } from '../support/containerd-peek.js';

/** Processes and cgroups left under `parent` (cgroup v1 and v2 layouts), as readable lines. */
export function cgroupLeftovers(parent: string): string[] {
  const root = '/sys/fs/cgroup';
  const out: string[] = [];
  const walk = (dir: string, top: boolean): void => {
    let entries: fs.Dirent[];
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
    const procs = fs.existsSync(path.join(dir, 'cgroup.procs')) ? fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean) : [];
    for (const pid of procs) out.push(`process ${pid} (${comm(pid)}) in ${dir}`);
    if (!top) out.push(`cgroup ${dir}`);
    for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name), false);
  };
  const controllers = fs.readdirSync(root);
  const v2 = controllers.includes('cgroup.controllers');
  if (v2) walk(path.join(root, parent), true);
  else for (const c of controllers) if (!fs.lstatSync(path.join(root, c)).isSymbolicLink()) walk(path.join(root, c, parent), true);
  return out;
}

const comm = (pid: string): string => {
  try { return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return '?'; }
};

/** Removes the (empty) cgroup `parent` in every hierarchy; busy ones stay. */
export function removeCgroupParent(parent: string): void {
  const root = '/sys/fs/cgroup';
  for (const c of fs.readdirSync(root)) {
    try { fs.rmdirSync(path.join(root, c, parent)); } catch { /* missing or busy */ }
  }
}

/** The tasks and containers crikit's containerd still has in `namespace` (the leak checker sees no tasks). */
export async function containerdLeftovers(containerdStateDir: string): Promise<string[]> {
  const peek = await containerdPeek(path.join(containerdStateDir, 'containerd.sock'));
  try {
    const signal = AbortSignal.timeout(20_000);
    const { tasks } = await peek.tasks.list({ filter: '' }, { signal });
    const { containers } = await peek.containers.list({ filters: [] }, { signal });
    return [...tasks.map(t => `containerd task ${t.id} (pid ${t.pid})`), ...containers.map(c => `containerd container ${c.id}`)];
  } finally {
    peek.close();
  }
}
