// How a benchmark process runs: one deadline for everything, and a teardown that leaves no process, mount or
// temp dir behind, whether the benchmark ends, fails, times out or is interrupted.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** One thing to undo: `run` for an orderly teardown, `now` (synchronous, best effort) for the process 'exit' hook. */
interface TeardownStep {
  readonly what: string;
  readonly run: () => Promise<void>;
  readonly now: () => void;
}

/**
 * What a benchmark started and must undo, in reverse order. A side registers its processes and dirs when it
 * starts and unregisters them when it stops cleanly, so what is left here after a failure is exactly what
 * still needs undoing.
 */
export class Teardown {
  private readonly steps: TeardownStep[] = [];

  /**
   * Registers a step. `run` is the orderly way (stop a process, remove a dir); `now` must be synchronous and
   * is what the 'exit' hook calls when there is no time for `run` (SIGKILL a pid, rmSync a dir).
   * @returns a function that unregisters the step (call it once the thing is undone some other way)
   */
  add(what: string, run: () => Promise<void>, now: () => void): () => void {
    const step = { what, run, now };
    this.steps.push(step);
    return () => {
      const i = this.steps.indexOf(step);
      if (i >= 0) this.steps.splice(i, 1);
    };
  }

  /** How many steps are registered. */
  get size(): number {
    return this.steps.length;
  }

  /**
   * Runs every registered step, last first, each bounded by `stepTimeoutMs` (then its `now` runs instead).
   * Never throws: failures are returned as `what: message` lines. Idempotent: steps run once.
   */
  async runAll(stepTimeoutMs = 30_000): Promise<string[]> {
    const failures: string[] = [];
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await withDeadline(step.run(), stepTimeoutMs, step.what);
      } catch (err) {
        failures.push(`${step.what}: ${(err as Error).message}`);
        try { step.now(); } catch { /* best effort */ }
      }
    }
    return failures;
  }

  /** Runs every step's `now`, last first, and forgets them. For the process 'exit' hook: synchronous, never throws. */
  runNow(): void {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try { step.now(); } catch { /* best effort */ }
    }
  }
}

/** The teardown of this benchmark process; `runBenchmark` drains it. */
export const teardown = new Teardown();

/**
 * Resolves or rejects as `promise` does, or rejects with `<what>: timed out after <ms> ms` once `ms` pass.
 * The promise itself is not cancelled: pair this with a step that kills what it waits for.
 */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Removes `dir` and everything in it, after lazily unmounting whatever is still mounted below it (overlay
 * rootfs, shm, netns of a pod benchmark), deepest first, so `rm` never reaches into a mount. Synchronous so
 * the 'exit' hook can use it; idempotent.
 */
export function removeTree(dir: string): void {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  let mountinfo = '';
  try { mountinfo = readFileSync('/proc/self/mountinfo', 'utf8'); } catch { /* no procfs: nothing to unmount */ }
  const mounts = mountinfo.split('\n')
    .map(line => line.split(' ')[4])
    // mountinfo escapes space, tab, newline and backslash as octal.
    .map(p => p?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(prefix)))
    .sort((a, b) => b.length - a.length);
  for (const mount of mounts) spawnSync('umount', ['-l', mount], { stdio: 'ignore', timeout: 10_000 });
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** The file that marks a temp dir as this benchmark process's, holding its pid. */
const ownerFile = '.bench-owner.pid';

/**
 * Marks `dir` (a temp dir directly under /tmp or the OS temp dir) as owned by this process, so that if the process is killed
 * before it can remove the dir, the next benchmark's `sweepOrphanedDirs` does.
 */
export function claimDir(dir: string): void {
  writeFileSync(path.join(dir, ownerFile), `${process.pid}\n`);
}

/**
 * Removes the temp dirs under /tmp claimed by benchmark processes that no longer run (killed with SIGKILL,
 * when no exit hook could). Dirs without the owner file, or whose owner still runs, are left alone.
 */
export function sweepOrphanedDirs(): void {
  for (const dir of [...new Set([tmpdir(), '/tmp'])].flatMap(parent => readdirSync(parent).map(name => path.join(parent, name)))) {
    let pid: number;
    try { pid = Number.parseInt(readFileSync(path.join(dir, ownerFile), 'utf8'), 10); } catch { continue; }
    if (Number.isInteger(pid) && pid > 0 && !isAlive(pid)) removeTree(dir);
  }
}

/** Whether `pid` runs (a zombie does not). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends SIGKILL to `pid` if it still exists. */
export function killNow(pid: number | undefined): void {
  if (pid === undefined) return;
  try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
}

/** Options of `runBenchmark`. */
export interface RunBenchmarkOptions {
  /** The whole benchmark, set-up and teardown included, must end within this; then it fails. */
  readonly timeoutMs: number;
}

/**
 * Runs a benchmark's `main` and exits the process: 0 when it resolves, 1 when it throws or overruns
 * `timeoutMs`, 130/143 on SIGINT/SIGTERM. Whatever is left in `teardown` is undone before the exit (each
 * step bounded), and the process 'exit' hook SIGKILLs and removes anything that still slipped through.
 * `main` gets a signal that fires at the deadline or on SIGINT/SIGTERM, to stop early. First it removes the
 * dirs of earlier benchmark processes that were SIGKILLed (`sweepOrphanedDirs`).
 */
export function runBenchmark(name: string, main: (signal: AbortSignal) => Promise<void>, options: RunBenchmarkOptions): void {
  const stop = new AbortController();
  sweepOrphanedDirs();
  process.on('exit', () => teardown.runNow());
  let finishing = false;
  const finish = async (code: number, reason?: unknown): Promise<void> => {
    if (finishing) return;
    finishing = true;
    if (reason !== undefined) process.stderr.write(`${name}: ${reason instanceof Error ? reason.stack ?? reason.message : String(reason)}\n`);
    const failures = await teardown.runAll();
    for (const f of failures) process.stderr.write(`${name}: teardown: ${f}\n`);
    process.exit(code);
  };
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(sig, () => {
      stop.abort(new Error(`interrupted by ${sig}`));
      void finish(code, `interrupted by ${sig}`);
    });
  }
  setTimeout(() => {
    const err = new Error(`did not finish within ${options.timeoutMs} ms`);
    stop.abort(err);
    void finish(1, err);
  }, options.timeoutMs);
  main(stop.signal).then(() => finish(0), err => finish(1, err));
}
