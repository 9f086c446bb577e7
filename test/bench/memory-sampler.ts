// Memory of benchmarked processes, from /proc: resident set now (VmRSS) and its high-water mark (VmHWM).
import { readdirSync, readFileSync } from 'node:fs';

/** One reading of `/proc/<pid>/status`, in KiB. */
export interface MemoryReading {
  /** VmRSS: resident now. */
  readonly rssKiB: number;
  /** VmHWM: the most the process was ever resident, since it started. */
  readonly hwmKiB: number;
}

/** Reads VmRSS and VmHWM of `pid`; undefined when the process is gone (or is a zombie, which has neither). */
export function readMemory(pid: number): MemoryReading | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (field: string): number | undefined => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    return m ? Number(m[1]) : undefined;
  };
  const rssKiB = kib('VmRSS');
  const hwmKiB = kib('VmHWM');
  return rssKiB === undefined || hwmKiB === undefined ? undefined : { rssKiB, hwmKiB };
}

/**
 * The pids whose parent is `ppid` and whose command name (`/proc/<pid>/comm`, at most 15 characters) is
 * `comm`, found by scanning /proc (this kernel has no `/proc/<pid>/task/<tid>/children`).
 */
export function childPids(ppid: number, comm: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after the last ')'.
      const close = stat.lastIndexOf(')');
      const parent = Number(stat.slice(close + 2).split(' ')[1]);
      if (parent === ppid && stat.slice(stat.indexOf('(') + 1, close) === comm.slice(0, 15)) found.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/**
 * Follows the memory of one process until `stop()`: polls VmRSS every `intervalMs` and keeps the highest
 * VmHWM seen, so the peak survives the process's exit. The peak is VmHWM, which the kernel keeps exactly;
 * polling only makes sure a late reading is not lost when the process is gone before `stop()`.
 *
 * ```
 * new ──► sampling ──stop()──► stopped (peakKiB final)
 * ```
 */
export class MemorySampler {
  private peak = 0;
  private last: MemoryReading | undefined;
  private stopped = false;
  private readonly timer: NodeJS.Timeout;

  /** Starts sampling `pid` at once. */
  constructor(readonly pid: number, intervalMs = 200) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    // A sampler never keeps the benchmark alive.
    this.timer.unref();
  }

  /** The highest VmHWM (KiB) seen so far; 0 if the process was never seen. */
  get peakKiB(): number {
    return this.peak;
  }

  /** The latest reading, if any. */
  get latest(): MemoryReading | undefined {
    return this.last;
  }

  /** Takes a last reading (while the process still runs, call it before stopping the process) and stops. Idempotent. */
  stop(): number {
    if (this.stopped) return this.peak;
    this.sample();
    this.stopped = true;
    clearInterval(this.timer);
    return this.peak;
  }

  private sample(): void {
    const reading = readMemory(this.pid);
    if (!reading) return;
    this.last = reading;
    this.peak = Math.max(this.peak, reading.hwmKiB, reading.rssKiB);
  }
}
