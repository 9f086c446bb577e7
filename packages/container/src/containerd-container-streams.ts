import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { inject, injectable } from 'inversify';
import {
  abortError, ContainerdClient, ContainerStore, FailedPreconditionError, isNotFound, killTask,
  Logger, Signals, type ContainerId, type ContainerStreams, type StreamingIo, type TerminalSize,
} from '@crikit/core';
import { AttachHub } from './attach-hub.js';
import { ContainerInspection } from './container-inspection.js';
import { ContainerIo } from './container-io.js';
import { execProcessAny, execStartError, execTarget } from './exec-process.js';

/** After an exec exits, how long its output may take to drain before the FIFOs are closed anyway. */
const drainTimeoutMs = 5_000;

/**
 * Exec and Attach with a streaming client: exec through containerd's task Exec (a console with
 * `terminal: true` for a TTY, resizes through ResizePty), attach through the AttachHub.
 */
@injectable()
export class ContainerdContainerStreams implements ContainerStreams {
  constructor(
    @inject(ContainerStore) private readonly store: ContainerStore,
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(ContainerIo) private readonly io: ContainerIo,
    @inject(AttachHub) private readonly hub: AttachHub,
    @inject(ContainerInspection) private readonly inspection: ContainerInspection,
    @inject(Logger) private readonly log: Logger,
  ) {}

  async exec(id: ContainerId, cmd: readonly string[], io: StreamingIo, signal: AbortSignal): Promise<number> {
    const { what } = execTarget(this.store, id, cmd);
    const execId = randomBytes(16).toString('hex');
    const call = { containerId: id, execId };
    // The spec and the FIFOs are independent: read the one while the other is made.
    const opening = this.io.open(id, execId, { tty: io.tty, stdin: Boolean(io.stdin) });
    opening.catch(() => undefined);
    const spec = await execProcessAny(this.inspection, this.containerd, id, cmd, io.tty, signal).catch(async err => {
      await opening.then(p => p.destroy(), () => undefined);
      await this.io.removeProcess(id, execId);
      throw err;
    });
    const pio = await opening;
    const drained = Promise.all([copyOut(pio.output.stdout, io.stdout), copyOut(pio.output.stderr, io.tty ? io.stdout : io.stderr)]);
    const waitAbort = new AbortController();
    let started = false;
    const kill = (): void => {
      if (started) void killTask(this.containerd, id, Signals.SIGKILL, { execId, signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
    };
    signal.addEventListener('abort', kill, { once: true });
    try {
      await this.containerd.tasks.exec({ ...call, stdin: pio.paths.stdin, stdout: pio.paths.stdout, stderr: pio.paths.stderr, terminal: io.tty, spec }, { signal });
      const waiting = this.containerd.tasks.wait(call, { signal: waitAbort.signal });
      waiting.catch(() => undefined);
      await this.containerd.tasks.start(call, { signal }).catch(err => { throw execStartError(err, what, cmd); });
      started = true;
      if (signal.aborted) kill();
      if (io.stdin && pio.input) this.copyIn(io.stdin, pio.input, id, execId);
      if (io.tty && io.resize) void this.forwardResizes(id, execId, io.resize);
      const exit = await waiting;
      await Promise.race([drained, new Promise(r => setTimeout(r, drainTimeoutMs).unref())]);
      if (signal.aborted) throw abortError(signal, what);
      return exit.exitStatus;
    } finally {
      signal.removeEventListener('abort', kill);
      waitAbort.abort();
      pio.destroy();
      io.stdin?.unpipe();
      // The process is gone (or never started): the client gets its status now, and containerd's
      // record of the process and its FIFOs go in the background.
      void this.removeProcess(id, execId);
    }
  }

  /** Deletes an exec process from containerd and removes its FIFOs; failures are logged. */
  private async removeProcess(id: ContainerId, execId: string): Promise<void> {
    await this.containerd.tasks.deleteProcess({ containerId: id, execId }, { signal: AbortSignal.timeout(10_000) })
      .catch(err => { if (!isNotFound(err)) this.log.warn({ container: id, execId, err }, 'delete exec process'); });
    await this.io.removeProcess(id, execId).catch(err => this.log.warn({ container: id, execId, err }, 'remove exec FIFOs'));
  }

  async attach(id: ContainerId, io: StreamingIo, signal: AbortSignal): Promise<void> {
    const record = this.store.get(id);
    const what = `attach to container ${record.metadata.name}`;
    if (record.status.state !== 'running') throw new FailedPreconditionError(`${what}: the container is ${record.status.state}, not running`);
    if (io.tty && io.resize) void this.forwardResizes(id, '', io.resize);
    await this.hub.attach(id, io, signal, what);
  }

  stdinOpen(id: ContainerId): boolean {
    return this.hub.stdinOpen(id);
  }

  /**
   * Copies the client's input to the process's stdin FIFO. The shim holds the FIFO open for writing
   * too, so after the client's EOF has drained into it, CloseIO asks the shim to let go: then the
   * process reads EOF (containerd's CRI does the same).
   */
  private copyIn(source: Readable, stdin: Writable, id: ContainerId, execId: string): void {
    source.pipe(stdin);
    source.once('error', () => stdin.end());
    stdin.once('finish', () => {
      void this.containerd.tasks.closeIO({ containerId: id, execId, stdin: true }, { signal: AbortSignal.timeout(10_000) })
        .catch(err => { if (!isNotFound(err)) this.log.debug({ container: id, execId, err }, 'close exec stdin'); });
    });
  }

  /** Passes a client's terminal sizes to the process's console until the client stops sending. */
  private async forwardResizes(id: ContainerId, execId: string, sizes: AsyncIterable<TerminalSize>): Promise<void> {
    try {
      for await (const { width, height } of sizes) {
        if (width <= 0 || height <= 0) continue;
        await this.containerd.tasks.resizePty({ containerId: id, execId, width, height }, { signal: AbortSignal.timeout(10_000) })
          .catch(err => this.log.debug({ container: id, execId, err }, 'resize pty'));
      }
    } catch {
      // The client's resize stream broke: the session is ending anyway.
    }
  }
}

/** Copies a process's output to the client until it ends (or drains it when the client did not ask for it). */
function copyOut(source: Readable | undefined, dest: Writable | undefined): Promise<void> {
  if (!source) return Promise.resolve();
  return new Promise(resolve => {
    if (dest) source.pipe(dest, { end: false });
    else source.resume();
    source.once('end', () => resolve());
    source.once('close', () => resolve());
    source.once('error', () => resolve());
  });
}

