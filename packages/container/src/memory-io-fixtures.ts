import { PassThrough } from 'node:stream';
import { ContainerIo, type ProcessIo } from './container-io.js';

/** ContainerIo with in-memory streams instead of FIFOs, for unit tests; `endAll` is the shim closing them (the task exited). */
export class MemoryIo extends ContainerIo {
  private readonly streams: PassThrough[] = [];
  override async open(): Promise<ProcessIo> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    this.streams.push(stdout, stderr);
    return { paths: { stdin: '', stdout: 'stdout', stderr: 'stderr' }, output: { stdout, stderr }, destroy: () => { stdout.destroy(); stderr.destroy(); } };
  }
  endAll(): void {
    for (const s of this.streams) s.end();
  }
}
