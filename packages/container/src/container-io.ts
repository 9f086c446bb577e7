import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { inject, injectable } from 'inversify';
import { PathsConfig, StartOrder, type ContainerOutput, type Startable } from '@crikit/core';
import type { Readable, Writable } from 'node:stream';
import { FifoPool, openFifoReader, openFifoWriter } from './fifo.js';

/** The file whose presence says that stdin_once closed the container's stdin. */
const stdinClosedMarker = 'stdin-closed';

/**
 * Spare FIFOs made per mkfifo run. Spawning from crikitd blocks its event loop for a fork of a large
 * process (10-20 ms on a busy node): with 2-3 FIFOs per exec, 128 make that once per ~50 execs.
 */
const fifoBatch = 128;

/** The stdio of one process: the FIFO paths containerd's shim writes to, and our read sides. */
export interface ProcessIo {
  /** For the task or exec request: '' where the process has no such stream. */
  readonly paths: { readonly stdin: string; readonly stdout: string; readonly stderr: string };
  readonly output: ContainerOutput;
  /** The write side of the process's stdin, when it has one; ending it ends the process's stdin. */
  readonly input?: Writable | undefined;
  /** Closes the read sides (and the stdin write side) now (a failed start). */
  destroy(): void;
}

/**
 * Stdio FIFOs of containers and exec processes, under `<stateDir>/containers/<id>/`. They survive a
 * crikit restart, so a recovered container's output is read again from the same FIFOs.
 */
@injectable()
export class ContainerIo implements Startable {
  readonly startName = 'container io';
  readonly startOrder = StartOrder.services;
  private readonly fifos: FifoPool;

  constructor(@inject(PathsConfig) private readonly paths: PathsConfig) {
    this.fifos = new FifoPool(path.join(paths.stateDir, 'fifo-pool'), fifoBatch);
  }

  async start(): Promise<void> {}

  /** Removes the spare FIFOs of the pool; those of containers stay, their shims still write to them. */
  async stop(): Promise<void> {
    await this.fifos.clear();
  }

  /** The directory of container `id`'s FIFOs. */
  dir(id: string): string {
    return path.join(this.paths.stateDir, 'containers', id);
  }

  /**
   * Makes (or finds) the FIFOs of a process and opens their read sides, and with `stdin` the write
   * side of its stdin FIFO. With a TTY everything arrives on stdout. `processId` is the container id
   * for its init process, the exec id otherwise.
   */
  async open(id: string, processId: string, options: { tty: boolean; stdin?: boolean }): Promise<ProcessIo> {
    const dir = this.dir(id);
    // An exec's container has its directory already: one stat instead of a recursive mkdir per exec.
    if (!existsSync(dir)) await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const stdout = path.join(dir, `${processId}-stdout`);
    const stderr = options.tty ? '' : path.join(dir, `${processId}-stderr`);
    const stdin = options.stdin ? path.join(dir, `${processId}-stdin`) : '';
    const paths = [stdout, stderr].filter(Boolean);
    await this.fifos.make([...paths, stdin].filter(Boolean));
    const readers: Readable[] = paths.map(openFifoReader);
    const input = stdin ? openFifoWriter(stdin) : undefined;
    input?.on('error', () => input.destroy());
    return {
      paths: { stdin, stdout, stderr },
      output: { stdout: readers[0]!, stderr: readers[1] },
      input,
      destroy: () => { readers.forEach(r => r.destroy()); input?.destroy(); },
    };
  }

  /** Removes the FIFOs of one exec process. Idempotent. */
  async removeProcess(id: string, processId: string): Promise<void> {
    // unlink, not rm({ force }): rm walks the path with lstat first, and this runs after every exec.
    await Promise.all(['stdin', 'stdout', 'stderr'].map(s => fs.unlink(path.join(this.dir(id), `${processId}-${s}`)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    })));
  }

  /**
   * Remembers that stdin_once closed container `id`'s stdin, in its directory, which outlives a
   * crikit restart (and goes with the container). Idempotent.
   */
  async markStdinClosed(id: string): Promise<void> {
    await fs.mkdir(this.dir(id), { recursive: true, mode: 0o700 });
    await fs.writeFile(path.join(this.dir(id), stdinClosedMarker), '');
  }

  /** Whether `markStdinClosed(id)` was called for this container (before a restart, too). */
  async isStdinClosed(id: string): Promise<boolean> {
    return fs.access(path.join(this.dir(id), stdinClosedMarker)).then(() => true, () => false);
  }

  /** Removes every FIFO of container `id`. Idempotent. */
  async remove(id: string): Promise<void> {
    await fs.rm(this.dir(id), { recursive: true, force: true });
  }
}
