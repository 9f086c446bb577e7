/** One program to run to its end: what a CNI plugin, `mount` or `unshare` call needs. */
export interface ProcessRequest {
  /** The program: a path, or a name looked up in PATH. */
  readonly file: string;
  readonly args?: readonly string[];
  /** Variables set on top of the environment crikit was started with. */
  readonly env?: Readonly<Record<string, string>>;
  /** Written to the program's stdin, which is then closed; stdin is empty otherwise. */
  readonly stdin?: string;
  /** Killed (SIGKILL) after this long; the run fails with DeadlineExceededError. */
  readonly timeoutMs: number;
  /** Killed once stdout and stderr together pass this many bytes; the result says so. 4 MiB by default. */
  readonly maxOutputBytes?: number;
  /** Run in a process group of its own, and kill the whole group, so a kill also reaches what the program started. */
  readonly ownGroup?: boolean;
  /** What crikit is doing, the prefix of every error message (`create netns /run/crikit/netns/x`). */
  readonly doing: string;
}

/** How a program ended. */
export interface ProcessResult {
  /** The exit status, or null when a signal ended it. */
  readonly code: number | null;
  readonly signal: string | null;
  /** stdout and stderr as UTF-8 text. */
  readonly stdout: string;
  readonly stderr: string;
  /** Whether it was killed for printing more than `maxOutputBytes` (the output is cut there). */
  readonly outputExceeded: boolean;
}

/**
 * Runs programs for crikit. Forking a large Node process holds its event loop for the fork and exec
 * (tens of ms on a busy node), so the default implementation, SpawnHelper, hands them to a small
 * long-lived helper process; DirectProcessRunner spawns from the calling process.
 */
export interface ProcessRunner {
  /**
   * Runs `req` to its end. A non-zero exit is a result, not an error.
   * @throws UnavailableError when the program cannot be started (not found, not executable) or the helper died
   * @throws DeadlineExceededError when it outlives `timeoutMs` (it is killed)
   * @throws CancelledError, DeadlineExceededError when `signal` fires (it is killed)
   */
  run(req: ProcessRequest, signal: AbortSignal): Promise<ProcessResult>;
}
export const ProcessRunner = Symbol('ProcessRunner');

/** The default output limit of a ProcessRequest. */
export const defaultMaxOutputBytes = 4 << 20;
