import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { UnavailableError } from '@crikit/core';

const run = promisify(execFile);
const { O_RDONLY, O_RDWR, O_NONBLOCK } = fs.constants;

/** Makes FIFOs at `paths` (mode 0600) with one mkfifo; existing ones are kept. */
export async function makeFifos(paths: readonly string[]): Promise<void> {
  const missing = paths.filter(p => !fs.existsSync(p));
  if (missing.length === 0) return;
  try {
    await run('mkfifo', ['-m', '0600', ...missing]);
  } catch (err) {
    throw new UnavailableError(`mkfifo ${missing.join(' ')}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`, { cause: err });
  }
}

/**
 * Spare FIFOs made ahead in batches, one mkfifo process per batch, and renamed into place when a
 * process needs them: a rename is one syscall where a mkfifo is a process spawn (10-30 ms on a busy
 * node, on every exec). The dir must be on the same filesystem as the FIFOs' places; it belongs to
 * this process, and what an earlier one left there is removed first.
 */
export class FifoPool {
  private readonly spare: string[] = [];
  private refilling: Promise<void> | undefined;
  private cleared = false;
  private next = 0;

  constructor(private readonly dir: string, private readonly batch = 24) {}

  /** Makes FIFOs at `paths` (mode 0600); existing ones are kept. */
  async make(paths: readonly string[]): Promise<void> {
    const missing = paths.filter(p => !fs.existsSync(p));
    if (missing.length === 0) return;
    if (this.spare.length < missing.length) await this.refill().catch(() => undefined);
    const unmade: string[] = [];
    for (const p of missing) {
      const spare = this.spare.pop();
      if (!spare) { unmade.push(p); continue; }
      // One rename syscall, done at once: a thread-pool round trip per FIFO costs more than the call.
      try { fs.renameSync(spare, p); } catch { unmade.push(p); }
    }
    if (unmade.length > 0) await makeFifos(unmade);
    if (this.spare.length < this.batch / 2) void this.refill().catch(() => undefined);
  }

  /** Removes the spare FIFOs (at shut-down: they are no one's); the next `make` starts a new batch. Idempotent. */
  async clear(): Promise<void> {
    await this.refilling?.catch(() => undefined);
    this.spare.length = 0;
    await fs.promises.rm(this.dir, { recursive: true, force: true });
  }

  private refill(): Promise<void> {
    this.refilling ??= (async () => {
      if (!this.cleared) {
        await fs.promises.rm(this.dir, { recursive: true, force: true });
        this.cleared = true;
      }
      await fs.promises.mkdir(this.dir, { recursive: true, mode: 0o700 });
      const names = Array.from({ length: this.batch }, () => path.join(this.dir, `fifo-${this.next++}`));
      await makeFifos(names);
      this.spare.push(...names);
    })().finally(() => { this.refilling = undefined; });
    return this.refilling;
  }
}

/**
 * Opens a FIFO for reading without blocking: a non-blocking open, read through libuv's pipe handle,
 * so no thread-pool thread waits on it. Linux reports no hang-up on a FIFO until a writer that
 * opened after this reader closes, so the stream neither ends early nor misses the shim's output.
 */
export function openFifoReader(path: string): Readable {
  const fd = fs.openSync(path, O_RDONLY | O_NONBLOCK);
  return new net.Socket({ fd, readable: true, writable: false });
}

/**
 * Opens a FIFO for writing without waiting for its reader: opened read-write (which Linux allows on a
 * FIFO and never blocks), written through libuv's pipe handle. The process reading it sees EOF once
 * this stream is ended or destroyed.
 */
export function openFifoWriter(path: string): Writable {
  const fd = fs.openSync(path, O_RDWR | O_NONBLOCK);
  const socket = new net.Socket({ fd, readable: false, writable: true });
  // Ending a pipe handle does not close its fd, and the reader sees EOF only once no writer is left.
  socket.once('finish', () => socket.destroy());
  return socket;
}
