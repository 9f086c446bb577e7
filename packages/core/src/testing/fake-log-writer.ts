import type { Readable } from 'node:stream';
import type { ContainerLogTarget, ContainerLogWriter, ContainerOutput, LogEntry, LogSink } from '../contracts/container-log-writer.js';
import { AlreadyExistsError, NotFoundError, throwIfAborted } from '../errors.js';
import type { ContainerId } from '../ids.js';
import { FakeRecorder, type MethodsOf } from './fake-recorder.js';

/** What the fake log writer holds for one container. */
export interface FakeLog {
  readonly target: ContainerLogTarget;
  /** Everything read, in arrival order, tagged with its stream. */
  readonly chunks: { readonly stream: 'stdout' | 'stderr'; readonly data: Buffer }[];
  reopened: number;
  closed: boolean;
  /** Resolves when every attached stream has ended. */
  readonly drained: Promise<void>;
}

/**
 * A ContainerLogWriter that keeps output in memory instead of writing CRI log files.
 * `output(id)` gives what a container wrote.
 */
export class FakeLogWriter extends FakeRecorder<MethodsOf<ContainerLogWriter>> implements ContainerLogWriter {
  /** Logs by container, including closed ones. */
  readonly logs = new Map<ContainerId, FakeLog>();

  async attach(target: ContainerLogTarget, output: ContainerOutput, signal: AbortSignal): Promise<void> {
    this.record('attach', target, output);
    throwIfAborted(signal, `attach log of container "${target.containerId}"`);
    const existing = this.logs.get(target.containerId);
    if (existing && !existing.closed) throw new AlreadyExistsError(`container "${target.containerId}" already has a log writer`);
    const chunks: FakeLog['chunks'] = [];
    const collect = (stream: 'stdout' | 'stderr', source: Readable | undefined): Promise<void> => {
      if (!source) return Promise.resolve();
      return new Promise(resolve => {
        source.on('data', (data: Buffer | string) => chunks.push({ stream, data: Buffer.from(data) }));
        source.once('end', resolve);
        source.once('close', resolve);
        source.once('error', () => resolve());
      });
    };
    const drained = Promise.all([collect('stdout', output.stdout), collect('stderr', output.stderr)]).then(() => undefined);
    this.logs.set(target.containerId, { target, chunks, reopened: 0, closed: false, drained });
  }

  async reopen(containerId: ContainerId, signal: AbortSignal): Promise<void> {
    this.record('reopen', containerId);
    throwIfAborted(signal, `reopen log of container "${containerId}"`);
    const log = this.logs.get(containerId);
    if (!log || log.closed) throw new NotFoundError(`container "${containerId}" has no log writer`);
    log.reopened++;
  }

  async close(containerId: ContainerId, signal: AbortSignal): Promise<void> {
    this.record('close', containerId);
    const log = this.logs.get(containerId);
    if (!log || log.closed) return;
    // Wait for the streams to drain, unless the caller gives up first.
    await Promise.race([log.drained, new Promise<void>(resolve => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    })]);
    log.closed = true;
  }

  /** What the container wrote so far, on one stream or (by default) both interleaved. */
  output(containerId: ContainerId, stream?: 'stdout' | 'stderr'): string {
    const chunks = this.logs.get(containerId)?.chunks ?? [];
    return Buffer.concat(chunks.filter(c => stream === undefined || c.stream === stream).map(c => c.data)).toString('utf8');
  }
}

/** A LogSink that keeps every entry. */
export class FakeLogSink extends FakeRecorder<MethodsOf<LogSink>> implements LogSink {
  readonly entries: LogEntry[] = [];

  write(entry: LogEntry): void {
    this.record('write', entry);
    this.entries.push(entry);
  }
}
