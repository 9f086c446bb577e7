import { PassThrough, type Readable, type Writable } from 'node:stream';
import { inject, injectable } from 'inversify';
import { ContainerdClient, FailedPreconditionError, type ContainerId, type ContainerOutput, type StreamingIo } from '@crikit/core';

/** A running container's stdio as Attach sees it. */
interface Entry {
  readonly clients: Set<{ readonly stdout?: Writable | undefined; readonly stderr?: Writable | undefined }>;
  readonly ended: Promise<void>;
  stdin: Writable | undefined;
  readonly stdinOnce: boolean;
  readonly onStdinClosed: (() => void) | undefined;
  done: boolean;
}

/** The container's stdin FIFO writer, and whether the first attached client closes it (stdin_once). */
export interface ContainerStdin {
  readonly writer: Writable;
  readonly once: boolean;
  /** Called once when stdin_once closed stdin for good, so that it can be remembered across a restart. */
  readonly onClosed?: (() => void) | undefined;
}

/**
 * Fans a running container's output out to its CRI log writer and to every attached client, and
 * passes attached clients' input to its stdin (when it was created with stdin). The log writer is
 * never starved: a slow client buffers, it does not block the container.
 */
@injectable()
export class AttachHub {
  private readonly entries = new Map<ContainerId, Entry>();

  constructor(@inject(ContainerdClient) private readonly containerd: ContainerdClient) {}

  /**
   * Interposes on a started (or recovered) container's output. Returns the streams to hand to the
   * log writer instead; they end when the container's output ends, which also closes its stdin.
   */
  tap(id: ContainerId, output: ContainerOutput, stdin?: ContainerStdin): ContainerOutput {
    this.forget(id);
    const clients: Entry['clients'] = new Set();
    const names = (['stdout', 'stderr'] as const).filter(n => output[n]);
    const tapped: { stdout?: Readable; stderr?: Readable } = {};
    const ends = names.map(name => {
      const source = output[name]!;
      const logSide = new PassThrough();
      tapped[name] = logSide;
      source.on('data', (chunk: Buffer) => {
        for (const c of clients) c[name]?.write(chunk);
        if (!logSide.destroyed && !logSide.write(chunk)) {
          source.pause();
          logSide.once('drain', () => source.resume());
          logSide.once('close', () => source.resume());
        }
      });
      return new Promise<void>(resolve => {
        source.once('end', () => { logSide.end(); resolve(); });
        source.once('close', () => { if (!logSide.writableEnded) logSide.end(); resolve(); });
        source.once('error', () => undefined);
      });
    });
    const entry: Entry = { clients, ended: Promise.all(ends).then(() => undefined), stdin: stdin?.writer, stdinOnce: stdin?.once ?? false, onStdinClosed: stdin?.onClosed, done: false };
    void entry.ended.then(() => {
      entry.done = true;
      entry.stdin?.destroy();
      entry.stdin = undefined;
    });
    this.entries.set(id, entry);
    return tapped;
  }

  /**
   * Connects a client until the container's output ends or `signal` fires. Detaching leaves the
   * container running.
   * @throws FailedPreconditionError when the container is not running, or stdin is asked of one created without it
   */
  async attach(id: ContainerId, io: StreamingIo, signal: AbortSignal, what: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry || entry.done) throw new FailedPreconditionError(`${what}: the container is not running`);
    if (io.stdin && !entry.stdin) throw new FailedPreconditionError(`${what}: stdin: the container has no open stdin (created without stdin, or stdin_once and an earlier attach closed it)`);
    const client = { stdout: io.stdout, stderr: io.tty ? undefined : io.stderr };
    entry.clients.add(client);
    const stopInput = io.stdin ? this.feedStdin(id, entry, io.stdin, io.tty) : () => {};
    try {
      await new Promise<void>(resolve => {
        void entry.ended.then(resolve);
        if (signal.aborted) resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      entry.clients.delete(client);
      stopInput();
    }
  }

  /**
   * Whether a client can still attach to the container's stdin: false when it has none, or had
   * stdin_once and an earlier attach closed it, or its output ended.
   */
  stdinOpen(id: ContainerId): boolean {
    const entry = this.entries.get(id);
    return entry !== undefined && !entry.done && entry.stdin !== undefined;
  }

  /** Forgets a container (removed, or tapped again). Idempotent. */
  forget(id: ContainerId): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    entry.stdin?.destroy();
  }

  /**
   * Copies a client's input into the container's stdin. With stdin_once (and no TTY, as containerd's
   * CRI) the end of that client's input, by EOF or by detaching, closes stdin for good.
   */
  private feedStdin(id: ContainerId, entry: Entry, input: Readable, tty: boolean): () => void {
    const onData = (chunk: Buffer): void => {
      const stdin = entry.stdin;
      if (stdin && !stdin.destroyed && !stdin.write(chunk)) {
        input.pause();
        stdin.once('drain', () => input.resume());
      }
    };
    const closeOnce = (): void => {
      // CRI: with stdin_once the container's stdin closes when the first attached client lets go of it.
      // The shim holds the FIFO open too: CloseIO lets the process read EOF once the FIFO drained.
      if (!entry.stdinOnce || tty || !entry.stdin) return;
      entry.stdin.end(() => {
        void this.containerd.tasks.closeIO({ containerId: id, execId: '', stdin: true }, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
      });
      entry.stdin = undefined;
      entry.onStdinClosed?.();
    };
    input.on('data', onData);
    input.once('end', closeOnce);
    return () => {
      input.off('data', onData);
      input.off('end', closeOnce);
      closeOnce();
    };
  }
}
