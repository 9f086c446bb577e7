import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** One finding of `crikit doctor`: `missing` with `required` set makes the command fail. */
export interface CheckResult {
  readonly name: string;
  readonly status: 'ok' | 'missing';
  readonly required: boolean;
  /** What was found (version, path, list) or what is wrong. */
  readonly detail: string;
  /** How to fix it (an apt package, a sysctl, a boot parameter, a config key); only when missing. */
  readonly fix?: string;
}

/** The output of a command the doctor ran. */
export interface CommandOutput { readonly status: number | null; readonly stdout: string; readonly stderr: string }

/**
 * The host as the doctor sees it. `root` prefixes /proc and /sys reads so tests can point at a fake tree;
 * `pathDirs` is where binaries are looked up.
 */
export class Host {
  constructor(readonly root: string, readonly pathDirs: readonly string[]) {}

  /** The host this process runs on, with PATH plus the sbin dirs a root shell would have. */
  static real(): Host {
    const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
    for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/bin', '/bin']) if (!dirs.includes(d)) dirs.push(d);
    return new Host('/', dirs);
  }

  /** Text of a file under the root (`/proc/...`), or undefined when it cannot be read. */
  read(file: string): string | undefined {
    try { return fs.readFileSync(path.join(this.root, file), 'utf8'); } catch { return undefined; }
  }

  /** Whether a path under the root exists. */
  exists(file: string): boolean {
    return fs.existsSync(path.join(this.root, file));
  }

  /** The absolute path of an executable: `name` itself when absolute, else the first match in `pathDirs`. */
  which(name: string): string | undefined {
    const candidates = path.isAbsolute(name) ? [name] : this.pathDirs.map(d => path.join(d, name));
    return candidates.find(isExecutable);
  }

  /** Runs `file args` with a 10 s limit; a spawn failure comes back as status null. */
  run(file: string, args: readonly string[]): CommandOutput {
    const res = spawnSync(file, args, { encoding: 'utf8', timeout: 10_000 });
    return { status: res.error ? null : res.status, stdout: res.stdout ?? '', stderr: res.error ? res.error.message : res.stderr ?? '' };
  }
}

function isExecutable(file: string): boolean {
  try {
    const st = fs.statSync(file);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}
