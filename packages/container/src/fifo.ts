import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';
import type { Readable } from 'node:stream';
import { UnavailableError } from '@crikit/core';

const run = promisify(execFile);
const { O_RDONLY, O_NONBLOCK } = fs.constants;

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
 * Opens a FIFO for reading without blocking: a non-blocking open, read through libuv's pipe handle,
 * so no thread-pool thread waits on it. Linux reports no hang-up on a FIFO until a writer that
 * opened after this reader closes, so the stream neither ends early nor misses the shim's output.
 */
export function openFifoReader(path: string): Readable {
  const fd = fs.openSync(path, O_RDONLY | O_NONBLOCK);
  return new net.Socket({ fd, readable: true, writable: false });
}
