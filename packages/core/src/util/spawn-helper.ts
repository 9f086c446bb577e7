import { spawn, type ChildProcess } from 'node:child_process';
import { inject, injectable } from 'inversify';
import { defaultMaxOutputBytes, type ProcessRequest, type ProcessResult, type ProcessRunner } from '../contracts/process-runner.js';
import { StartOrder, type Startable } from '../contracts/startable.js';
import { abortError, DeadlineExceededError, UnavailableError } from '../errors.js';
import { Logger } from '../logger.js';
import { Backoff } from './backoff.js';
import { DirectProcessRunner } from './direct-process-runner.js';
import { spawnHelperSource } from './spawn-helper-program.js';

/** A reply of the helper (see spawn-helper-program.ts). */
interface HelperReply {
  readonly id?: number;
  readonly ready?: boolean;
  readonly error?: { readonly code: string; readonly message: string };
  readonly code?: number | null;
  readonly signal?: string | null;
  readonly stdout?: string;
  readonly stderr?: string;
  readonly outputExceeded?: boolean;
}

interface Pending {
  readonly req: ProcessRequest;
  readonly resolve: (r: ProcessResult) => void;
  readonly reject: (e: Error) => void;
}

/** The helper's node flags: a small heap, for it only starts programs and passes their output on. */
const helperFlags = ['--max-semi-space-size=1', '--max-old-space-size=32', '--input-type=commonjs'];
/** A helper that stayed up this long resets the restart backoff. */
const stableMs = 10_000;
const stopGraceMs = 2_000;

/**
 * Runs programs in a small long-lived helper process that crikitd starts, supervises and restarts when it
 * dies: a fork of crikitd (100 MiB) holds its event loop for 10-60 ms on a busy node, a fork in the helper
 * holds nothing of crikitd's. Requests go over Node's IPC channel (spawn-helper-program.ts). A request in
 * flight when the helper dies fails with UnavailableError; the next one goes to its successor. Once stopped,
 * programs are spawned directly (a teardown after shut-down still works).
 */
@injectable()
export class SpawnHelper implements ProcessRunner, Startable {
  readonly startName = 'spawn helper';
  /** Right after containerd (which keeps the lowest child pid), before anything runs programs. */
  readonly startOrder = StartOrder.containerd + 1;
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
  private readonly direct = new DirectProcessRunner();
  private stderrTail = '';

  constructor(@inject(Logger) private readonly log: Logger) {}

  /** The helper's pid while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(_signal: AbortSignal): Promise<void> {
    this.stopped = false;
    await this.ensure();
  }

  async stop(signal: AbortSignal): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
    // Closing the channel ends the helper (it exits on 'disconnect'); a helper that does not is killed.
    if (child.connected) child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
    const onAbort = (): void => { child.kill('SIGKILL'); };
    signal.addEventListener('abort', onAbort, { once: true });
    await exited.finally(() => { clearTimeout(timer); signal.removeEventListener('abort', onAbort); });
  }

  async run(req: ProcessRequest, signal: AbortSignal): Promise<ProcessResult> {
    if (this.stopped) return this.direct.run(req, signal);
    if (signal.aborted) throw abortError(signal, req.doing);
    await this.ensure().catch(err => { throw new UnavailableError(`${req.doing}: ${(err as Error).message}`, { cause: err }); });
    const child = this.child!;
    const id = this.nextId++;
    return new Promise<ProcessResult>((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.pending.delete(id);
        if (this.pending.size === 0) child.channel?.unref();
      };
      const fail = (err: Error): void => {
        if (!this.pending.has(id)) return;
        settle();
        if (child.connected) child.send({ id, kill: true }, () => {});
        reject(err);
      };
      const timer = setTimeout(() => fail(new DeadlineExceededError(`${req.doing}: no answer within ${req.timeoutMs}ms, killed`)), req.timeoutMs);
      const onAbort = (): void => fail(abortError(signal, req.doing));
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        req,
        resolve: r => { settle(); resolve(r); },
        reject: e => { settle(); reject(e); },
      });
      child.channel?.ref();
      // A helper that died just now: the send fails (at once or in its callback) and so does this run.
      const unsent = (err: Error | null): void => {
        if (err) this.pending.get(id)?.reject(new UnavailableError(`${req.doing}: spawn helper: ${err.message}`, { cause: err }));
      };
      try {
        child.send({
          id, file: req.file, args: req.args ?? [], env: req.env ?? {}, stdin: req.stdin ?? '',
          maxOutputBytes: req.maxOutputBytes ?? defaultMaxOutputBytes, ownGroup: req.ownGroup ?? false,
        }, unsent);
      } catch (err) {
        unsent(err as Error);
      }
    });
  }

  /** Starts the helper unless one runs; resolves once it listens. */
  private ensure(): Promise<void> {
    this.ready ??= this.launch().catch(err => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private launch(): Promise<void> {
    clearTimeout(this.restartTimer);
    const child = spawn(process.execPath, [...helperFlags, '-e', spawnHelperSource], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    this.child = child;
    const startedAt = Date.now();
    child.stderr!.on('data', (chunk: Buffer) => { this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2_000); });
    // Neither the helper nor its pipes keep the process alive; the channel is held while the helper starts
    // and while a request is in flight.
    child.unref();
    (child.stderr as unknown as { unref?: () => void }).unref?.();
    return new Promise((resolve, reject) => {
      child.on('message', (m: HelperReply) => {
        if (!m.ready) return this.onReply(m);
        if (this.pending.size === 0) child.channel?.unref();
        resolve();
      });
      // Errors after the start (a failed send) are handled where they happen; none may go unhandled.
      child.on('error', err => reject(new UnavailableError(`start spawn helper: ${err.message}`, { cause: err })));
      child.once('exit', (code, sig) => {
        reject(new UnavailableError(`start spawn helper: exited (${code ?? sig}) before it was ready`));
        this.onExit(child, code, sig, Date.now() - startedAt);
      });
    });
  }

  private onReply(m: HelperReply): void {
    const p = m.id === undefined ? undefined : this.pending.get(m.id);
    if (!p) return; // killed and answered already
    if (m.error) {
      p.reject(new UnavailableError(`${p.req.doing}: cannot run ${p.req.file}: ${m.error.message}`));
      return;
    }
    p.resolve({
      code: m.code ?? null, signal: m.signal ?? null, stdout: m.stdout ?? '', stderr: m.stderr ?? '', outputExceeded: m.outputExceeded ?? false,
    });
  }

  private onExit(child: ChildProcess, code: number | null, sig: NodeJS.Signals | null, upMs: number): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.ready = undefined;
    const why = `spawn helper ${child.pid} exited (${code ?? sig})`;
    for (const p of [...this.pending.values()]) p.reject(new UnavailableError(`${p.req.doing}: ${why}`));
    if (this.stopped) return;
    if (upMs >= stableMs) this.backoff.reset();
    const delay = this.backoff.next();
    this.log.warn({ pid: child.pid, code, signal: sig, stderr: this.stderrTail.trim(), restartInMs: delay }, 'spawn helper exited; restarting it');
    this.stderrTail = '';
    this.restartTimer = setTimeout(() => { void this.ensure().catch(err => this.log.warn({ err }, 'spawn helper restart failed')); }, delay);
    this.restartTimer.unref();
  }
}
