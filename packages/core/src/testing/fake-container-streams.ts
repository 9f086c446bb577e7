import type { ContainerStreams, StreamingIo } from '../contracts/container-streams.js';
import { throwIfAborted } from '../errors.js';
import type { ContainerId } from '../ids.js';
import { FakeRecorder, type MethodsOf } from './fake-recorder.js';

/** What a fake exec does: write this output, then exit with this code. */
export interface FakeExecResult {
  readonly stdout?: string;
  readonly stderr?: string;
  readonly exitCode: number;
}

/** ContainerStreams that write canned output: `execResult` for exec, `attachOutput` for attach. */
export class FakeContainerStreams extends FakeRecorder<MethodsOf<ContainerStreams>> implements ContainerStreams {
  execResult: FakeExecResult = { exitCode: 0 };
  attachOutput = '';
  /** What `stdinOpen` answers. */
  stdinIsOpen = true;

  async exec(id: ContainerId, cmd: readonly string[], io: StreamingIo, signal: AbortSignal): Promise<number> {
    this.record('exec', id, cmd, io);
    throwIfAborted(signal, `exec in container "${id}"`);
    const { stdout, stderr, exitCode } = this.execResult;
    if (stdout) io.stdout?.write(stdout);
    // With a TTY, stderr goes to stdout.
    if (stderr) (io.tty ? io.stdout : io.stderr)?.write(stderr);
    return exitCode;
  }

  async attach(id: ContainerId, io: StreamingIo, signal: AbortSignal): Promise<void> {
    this.record('attach', id, io);
    throwIfAborted(signal, `attach to container "${id}"`);
    if (this.attachOutput) io.stdout?.write(this.attachOutput);
  }

  stdinOpen(id: ContainerId): boolean {
    this.record('stdinOpen', id);
    return this.stdinIsOpen;
  }
}
