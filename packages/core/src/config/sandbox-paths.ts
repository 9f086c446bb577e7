import path from 'node:path';
import type { PathsConfig } from './paths-config.js';

/** Where one sandbox's files are: written by the sandbox package, mounted into containers by the container package. */
export interface SandboxPaths {
  /** `<rootDir>/sandboxes/<id>`: hostname, hosts, resolv.conf. */
  readonly dir: string;
  /** `<stateDir>/sandboxes/<id>`: the shm mount point lives inside. */
  readonly stateDir: string;
  readonly hostname: string;
  readonly hosts: string;
  readonly resolvConf: string;
  readonly shm: string;
}

/** The paths of sandbox `id` under crikit's root and state dirs. */
export function sandboxPaths(paths: PathsConfig, id: string): SandboxPaths {
  const dir = path.join(paths.rootDir, 'sandboxes', id);
  const state = path.join(paths.stateDir, 'sandboxes', id);
  return {
    dir, stateDir: state,
    hostname: path.join(dir, 'hostname'), hosts: path.join(dir, 'hosts'), resolvConf: path.join(dir, 'resolv.conf'),
    shm: path.join(state, 'shm'),
  };
}
