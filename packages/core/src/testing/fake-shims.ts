import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Processes whose command lines read like containerd's runc v2 shims (`containerd-shim-runc-v2 -namespace
 * k8s.io -id <id> -address <socket>`), for tests of code that finds shims in /proc. `killAll` ends them.
 */
export class FakeShims {
  private readonly children: ChildProcess[] = [];

  /** `dir` holds the script the processes run. */
  constructor(private readonly dir: string) {}

  /** Starts one for task `id` of the containerd at `address`, running in `cwd`. */
  start(id: string, options: { address?: string; cwd: string }): ChildProcess {
    const script = path.join(this.dir, 'containerd-shim-runc-v2');
    fs.writeFileSync(script, 'setInterval(() => {}, 1_000_000);\n');
    const child = spawn(process.execPath, [script, '-namespace', 'k8s.io', '-id', id, '-address', options.address ?? '/nowhere.sock'],
      { cwd: options.cwd, stdio: 'ignore' });
    this.children.push(child);
    return child;
  }

  /** Resolves once `child` runs its program (its command line names the shim's -id), for at most 10 s. */
  async whenRunning(child: ChildProcess): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (fs.existsSync(`/proc/${child.pid}/cmdline`) && fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').includes('-id')) return;
      await new Promise(r => setTimeout(r, 100));
    }
  }

  /** SIGKILLs every process started. */
  killAll(): void {
    for (const c of this.children) c.kill('SIGKILL');
  }
}
