import path from 'node:path';
import type { Readable } from 'node:stream';
import { inject, injectable } from 'inversify';
import {
  AlreadyExistsError, ContainerLogWriter, InvalidArgumentError, LogSink, Logger, NotFoundError, throwIfAborted,
  type ContainerId, type ContainerLogTarget, type ContainerOutput, type LogEntry,
} from '@crikit/core';
import { CriLineSplitter, type SplitLine } from './cri-line-splitter.js';
import { CriLogFile } from './cri-log-file.js';
import { formatCriLogLines, wallClockNs, type CriLogStream } from './cri-log-format.js';
import { LoggingConfig } from './logging-config.js';

/**
 * A container's log while attached:
 *
 * ```
 * attach ──► copying ──(both streams end)──► drained ──close──► (gone)
 *               │ reopen: same state, new file        ▲
 *               └──close, signal fired first──────────┘ (sources destroyed)
 * ```
 */
interface AttachedLog {
  readonly target: ContainerLogTarget;
  readonly file: CriLogFile;
  readonly sources: readonly Readable[];
  /** Resolves when every source has ended and its last lines are written; never rejects. */
  drained: Promise<void>;
  /** Set when close gave up waiting: the sources were destroyed on purpose. */
  abandoned: boolean;
  closing?: Promise<void>;
}

/**
 * Writes container output to CRI log files, the way containerd's CRI plugin does: each stream is
 * cut into lines (`CriLineSplitter`), each line is stamped when read and appended to the container's
 * log file as `<RFC3339Nano> <stdout|stderr> <P|F> <content>`, and also handed to the LogSink.
 *
 * stdout and stderr are copied concurrently into the same file. Every write holds whole lines and
 * writes go through one queue per file, so a line of one stream never lands inside a line of the
 * other. Reading waits for the file (backpressure reaches the container, as with containerd), but
 * a failing write (disk full) is logged and dropped, never stops the draining of the FIFOs.
 */
@injectable()
export class CriFileLogWriter implements ContainerLogWriter {
  private readonly logs = new Map<ContainerId, AttachedLog>();
  /** Containers whose attach is opening the file; they count as attached. */
  private readonly attaching = new Set<ContainerId>();
  private readonly log: Logger;

  constructor(
    @inject(LoggingConfig) private readonly config: LoggingConfig,
    @inject(LogSink) private readonly sink: LogSink,
    @inject(Logger) log: Logger,
  ) {
    this.log = log.child({ component: 'cri-log-writer' });
  }

  /**
   * Opens the log file (creating it and its directory) and starts copying the output into it in
   * the background. With a TTY every stream is logged as `stdout` (CRI: a terminal merges them).
   * @throws InvalidArgumentError when `logPath` is not absolute
   * @throws AlreadyExistsError when the container already has a writer attached
   * @throws UnavailableError when the file cannot be opened
   * @throws CancelledError, DeadlineExceededError when `signal` fired
   */
  async attach(target: ContainerLogTarget, output: ContainerOutput, signal: AbortSignal): Promise<void> {
    const id = target.containerId;
    const doing = `attach log of container "${id}"`;
    throwIfAborted(signal, doing);
    if (!path.isAbsolute(target.logPath)) throw new InvalidArgumentError(`${doing}: log path "${target.logPath}" is not absolute`);
    if (this.logs.has(id) || this.attaching.has(id)) throw new AlreadyExistsError(`${doing}: a log writer is already attached`);
    this.attaching.add(id);
    let file: CriLogFile;
    try {
      file = await CriLogFile.open(target.logPath, this.log);
    } finally {
      this.attaching.delete(id);
    }
    if (signal.aborted) {
      await file.close();
      throwIfAborted(signal, doing);
    }
    const sources: { stream: CriLogStream; source: Readable }[] = [];
    if (output.stdout) sources.push({ stream: 'stdout', source: output.stdout });
    // CRI: with a TTY stdout and stderr are one terminal; everything is logged as stdout.
    if (output.stderr) sources.push({ stream: target.tty ? 'stdout' : 'stderr', source: output.stderr });
    const entry: AttachedLog = {
      target, file, abandoned: false,
      sources: sources.map(s => s.source),
      drained: Promise.resolve(),
    };
    entry.drained = Promise.all(sources.map(s => this.copy(entry, s.stream, s.source))).then(() => undefined);
    this.logs.set(id, entry);
    this.log.debug({ containerId: id, path: target.logPath, tty: target.tty }, 'attached container log');
  }

  /**
   * Switches to a new file at the same path after the kubelet renamed the old one (log rotation).
   * Lines read before the call go to the old file, lines read after to the new one.
   * Idempotent: reopening again just opens again.
   * @throws NotFoundError when no writer is attached for the container (or it is closing)
   * @throws UnavailableError when the new file cannot be opened; writing continues into the old one
   * @throws CancelledError, DeadlineExceededError when `signal` fired before starting
   */
  async reopen(containerId: ContainerId, signal: AbortSignal): Promise<void> {
    const doing = `reopen log of container "${containerId}"`;
    throwIfAborted(signal, doing);
    const entry = this.logs.get(containerId);
    if (!entry || entry.closing) throw new NotFoundError(`${doing}: no log writer attached`);
    await entry.file.reopen();
    this.log.debug({ containerId, path: entry.target.logPath }, 'reopened container log');
  }

  /**
   * Waits for both streams to end and their last lines to be written, then closes the file. If
   * `signal` fires first, destroys the streams and closes without waiting for them. Idempotent:
   * closing twice, or a container that never had a writer, resolves.
   */
  async close(containerId: ContainerId, signal: AbortSignal): Promise<void> {
    const entry = this.logs.get(containerId);
    if (!entry) return;
    if (!(await settledBefore(entry.drained, signal))) {
      if (!entry.abandoned) {
        entry.abandoned = true;
        this.log.warn({ containerId }, 'closing container log before its output ended');
        for (const source of entry.sources) source.destroy();
      }
    }
    entry.closing ??= (async () => {
      await entry.drained;
      await entry.file.close();
      if (this.logs.get(containerId) === entry) this.logs.delete(containerId);
      this.log.debug({ containerId }, 'closed container log');
    })();
    await entry.closing;
  }

  /** Copies one stream into the file until it ends; never rejects. */
  private async copy(entry: AttachedLog, stream: CriLogStream, source: Readable): Promise<void> {
    const splitter = new CriLineSplitter(this.config.maxLineBytes);
    try {
      for await (const chunk of source as AsyncIterable<Buffer | string>) {
        await this.emit(entry, stream, splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
      }
    } catch (err) {
      // A read error ends the stream like EOF does (containerd logs it and writes what is left).
      if (!entry.abandoned) this.log.warn({ err, containerId: entry.target.containerId, stream }, 'read container output');
    }
    await this.emit(entry, stream, splitter.end());
  }

  /** Stamps lines, hands them to the sink, and queues them for the file as one write. */
  private async emit(entry: AttachedLog, stream: CriLogStream, lines: readonly SplitLine[]): Promise<void> {
    if (lines.length === 0) return;
    const { containerId, sandboxId } = entry.target;
    const stamped = lines.map(l => ({ stream, partial: l.partial, content: l.content, timestampNs: wallClockNs() }));
    for (const line of stamped) {
      // The sink may keep the entry; the splitter's buffers share memory with the stream's chunks.
      const logEntry: LogEntry = { containerId, sandboxId, ...line, content: Buffer.from(line.content) };
      try {
        this.sink.write(logEntry);
      } catch (err) {
        // The LogSink contract says it must not throw; one that does must not stop the log.
        this.log.warn({ err, containerId }, 'log sink threw');
      }
    }
    await entry.file.write(formatCriLogLines(stamped));
  }
}

/** True when `promise` settles before `signal` fires; false (without waiting) once it has fired. */
function settledBefore(promise: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise(resolve => {
    const onAbort = (): void => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, () => resolve(true));
  });
}
