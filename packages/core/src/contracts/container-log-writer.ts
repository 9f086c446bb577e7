import type { Readable } from 'node:stream';
import type { ContainerId, SandboxId } from '../ids.js';

/** Which container's output goes where. */
export interface ContainerLogTarget {
  readonly containerId: ContainerId;
  readonly sandboxId: SandboxId;
  /** Absolute path of the CRI log file (pod log directory + the config's log path). */
  readonly logPath: string;
  /** With a TTY, output arrives on stdout only and is logged as `stdout`. */
  readonly tty: boolean;
}

/** The container side of stdio: what its process writes, as the runtime reads it from the FIFOs. */
export interface ContainerOutput {
  readonly stdout?: Readable | undefined;
  readonly stderr?: Readable | undefined;
}

/**
 * Writes a container's output to its CRI log file, in the format the kubelet reads
 * (`<RFC3339Nano> <stdout|stderr> <P|F> <line>`), and copies each line to the LogSink.
 * Decorate it to filter or redact (ARCHITECTURE.md, "Swapping a service"); replace the LogSink to add a destination.
 */
export interface ContainerLogWriter {
  /**
   * Opens (creating if needed) the log file and starts copying both streams into it; copying
   * continues in the background until both streams end. Resolves once the file is open.
   * @throws AlreadyExistsError when the container already has a writer attached
   * @throws InvalidArgumentError when `logPath` is not absolute
   * @throws UnavailableError when the file cannot be opened
   */
  attach(target: ContainerLogTarget, output: ContainerOutput, signal: AbortSignal): Promise<void>;

  /**
   * Closes the file and opens a new one at the same path, after the kubelet renamed the old one
   * to rotate it (ReopenContainerLog). Idempotent: reopening twice just reopens again.
   * @throws NotFoundError when no writer is attached for the container
   * @throws UnavailableError when the new file cannot be opened
   */
  reopen(containerId: ContainerId, signal: AbortSignal): Promise<void>;

  /**
   * Waits for both streams to end (the task exited and its output is drained), flushes and closes
   * the file, so ContainerStatus never reports an exit before its last lines are logged. If
   * `signal` fires first, closes without waiting. Idempotent: closing twice, or a container that
   * never had a writer, resolves.
   */
  close(containerId: ContainerId, signal: AbortSignal): Promise<void>;
}
export const ContainerLogWriter = Symbol('ContainerLogWriter');

/** One line (or part of a long line) of container output. */
export interface LogEntry {
  readonly containerId: ContainerId;
  readonly sandboxId: SandboxId;
  readonly stream: 'stdout' | 'stderr';
  /** When the line was read, in ns since the epoch. */
  readonly timestampNs: bigint;
  /** True for a chunk of a line longer than the maximum line size (CRI tag `P`); false for the end (`F`). */
  readonly partial: boolean;
  /** The bytes, without the newline. */
  readonly content: Buffer;
}

/**
 * An extra destination for container log lines, besides the CRI log file. The logging module binds
 * one that drops everything; an embedder rebinds it to ship lines elsewhere.
 */
export interface LogSink {
  /**
   * Takes one entry. Must not throw and must not block: buffer or drop instead, since the writer
   * calls it for every line on the container's output path.
   */
  write(entry: LogEntry): void;
}
export const LogSink = Symbol('LogSink');
