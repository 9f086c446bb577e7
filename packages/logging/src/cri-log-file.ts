import fs from 'node:fs/promises';
import path from 'node:path';
import { UnavailableError, type Logger } from '@crikit/core';

/** Mode of a new log file, as containerd creates it: the kubelet (root) reads it, log agents in the group may. */
const LOG_FILE_MODE = 0o640;
const LOG_DIR_MODE = 0o755;
/** Append, create, and never through a symlink: a link planted at the log path must not redirect writes. */
const LOG_OPEN_FLAGS = fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW;

type QueueItem =
  | { readonly kind: 'data'; readonly data: Buffer; readonly done: () => void }
  | { readonly kind: 'op'; readonly run: () => Promise<void>; readonly done: () => void; readonly fail: (err: unknown) => void };

/**
 * One open CRI log file, written through a single queue so that writes land in the order they were
 * made and a buffer is never split by another one (each buffer holds whole lines).
 *
 * ```
 * open ──write*──► reopen (new file at the same path) ──write*──► close
 * ```
 *
 * Write errors (disk full, I/O error) are logged once per run of failures and the data is dropped:
 * the caller must keep draining the container's output, or the container would block on a full pipe.
 */
export class CriLogFile {
  private readonly queue: QueueItem[] = [];
  private draining = false;
  private closed = false;
  private failing = false;

  private constructor(readonly path: string, private handle: fs.FileHandle, private readonly log: Logger) {}

  /**
   * Opens `file` for appending, creating it (mode 0640) and its directory if needed.
   * @throws UnavailableError when the directory or file cannot be created or opened
   */
  static async open(file: string, log: Logger): Promise<CriLogFile> {
    return new CriLogFile(file, await openLogFile(file), log);
  }

  /**
   * Queues whole lines for the file. Resolves once they are written, or dropped because the write
   * failed or the file is closed; never rejects.
   */
  write(data: Buffer): Promise<void> {
    if (this.closed || data.length === 0) return Promise.resolve();
    return new Promise(resolve => this.enqueue({ kind: 'data', data, done: resolve }));
  }

  /**
   * Opens a new file at the same path (the kubelet renamed the old one to rotate it). Everything
   * queued before the call goes to the old file, everything queued after to the new one; writes
   * wait while the new file is opened. If it cannot be opened, writing continues into the old one.
   * @throws UnavailableError when the new file cannot be opened, or this file is closed
   */
  async reopen(): Promise<void> {
    if (this.closed) throw new UnavailableError(`reopen log file ${this.path}: closed`);
    await this.runInQueue(async () => {
      const next = await openLogFile(this.path);
      const old = this.handle;
      this.handle = next;
      this.failing = false;
      await old.close().catch(err => this.log.warn({ err, path: this.path }, 'close rotated log file'));
    });
  }

  /** Writes everything queued, then closes the file. Idempotent; later writes are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.runInQueue(() => this.handle.close())
      .catch(err => this.log.warn({ err, path: this.path }, 'close log file'));
  }

  /** Runs `run` after everything queued before it, with nothing else running. */
  private runInQueue(run: () => Promise<void>): Promise<void> {
    return new Promise((done, fail) => this.enqueue({ kind: 'op', run, done, fail }));
  }

  private enqueue(item: QueueItem): void {
    this.queue.push(item);
    if (!this.draining) void this.drain();
  }

  /** Works through the queue; consecutive data items go out in one write. */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0]!;
        if (head.kind === 'op') {
          this.queue.shift();
          try {
            await head.run();
            head.done();
          } catch (err) {
            head.fail(err);
          }
          continue;
        }
        let n = 0;
        while (n < this.queue.length && this.queue[n]!.kind === 'data') n++;
        const batch = this.queue.splice(0, n) as Extract<QueueItem, { kind: 'data' }>[];
        await this.writeAll(batch.length === 1 ? batch[0]!.data : Buffer.concat(batch.map(b => b.data)));
        for (const b of batch) b.done();
      }
    } finally {
      this.draining = false;
    }
  }

  /** Writes all of `data`, looping over short writes; logs and drops it on failure. */
  private async writeAll(data: Buffer): Promise<void> {
    try {
      for (let at = 0; at < data.length;) {
        const { bytesWritten } = await this.handle.write(data, at, data.length - at);
        at += bytesWritten;
      }
      if (this.failing) this.log.info({ path: this.path }, 'writing container log again');
      this.failing = false;
    } catch (err) {
      // containerd: "Continue on write error to drain the container output." Log once per run of
      // failures, since a full disk fails every write.
      if (!this.failing) this.log.error({ err, path: this.path }, 'write container log; dropping lines until a write succeeds');
      this.failing = true;
    }
  }
}

/** Creates the log directory and opens the file for appending; a symlink at `file` fails (ELOOP). */
async function openLogFile(file: string): Promise<fs.FileHandle> {
  try {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: LOG_DIR_MODE });
    return await fs.open(file, LOG_OPEN_FLAGS, LOG_FILE_MODE);
  } catch (err) {
    throw new UnavailableError(`open log file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}
