import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { inject, injectable, optional } from 'inversify';
import {
  abortError, backoffDelay, CriError, deadline, FailedPreconditionError, Logger, StartOrder, throwIfAborted, UnavailableError, type Startable,
} from '@crikit/core';
import { ContainerdConfig } from './containerd-config.js';
import { containerdToml, type ContainerdPluginSections } from './containerd-toml.js';
import { GrpcContainerdClient } from './grpc-containerd-client.js';

/** Options of the managed containerd beyond the config slice; bind this token to change them. */
export interface ManagedContainerdOptions {
  /**
   * More plugin sections for containerd's config, keyed by plugin id; a section for containerd's own
   * CRI plugin turns it on (the side-by-side benchmarks do). Absent: containerd's CRI stays off.
   */
  readonly plugins?: ContainerdPluginSections;
  /** The first delay before restarting a containerd that died (doubling up to 10 s); 100 ms by default. */
  readonly restartDelayMs?: number;
}
/** DI token of ManagedContainerdOptions (optional; unbound means no options). */
export const ManagedContainerdOptions = Symbol('ManagedContainerdOptions');

/** How a child process ended, or why it never started. */
interface ExitStatus { code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }

/** containerd's log lines kept for error messages. */
const keptLines = 50;
/** How long to wait for the exit after SIGKILL before giving up on the child. */
const killWaitMs = 5_000;
/** How often an adopted containerd (not our child: no exit event) is looked at. */
const adoptedPollMs = 500;

/** Whether `pid` is a live (not zombie) process whose command line names `configPath`. */
async function runsConfig(pid: number, configPath: string): Promise<boolean> {
  const [stat, cmdline] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''), readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')]);
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== '' && state !== 'Z' && state !== 'X' && cmdline.split('\0').includes(configPath);
}

/**
 * containerd as a child process on a private root, state dir and socket, when the config's `address` is
 * `managed`; otherwise every method is a no-op.
 *
 * ```
 * stopped ──start──► starting ──socket answers──► running ──stop──► stopped (SIGTERM, then SIGKILL)
 *                       │ exits / times out               │ exits by itself
 *                       └──► stopped (UnavailableError)    └──► stopped (logged; the next start cleans up)
 * ```
 *
 * start writes `<stateDir>/containerd.toml` (containerd's CRI plugin off unless `plugins` configures it), spawns
 * `<binary> --config <file>`, logs its output at debug and resolves once containerd answers on `address`.
 * If crikit's process exits first, the child gets SIGKILL synchronously as a last resort.
 */
@injectable()
export class ManagedContainerd implements Startable {
  /** @inheritdoc */
  readonly startName = 'managed containerd';
  /** @inheritdoc */
  readonly startOrder = StartOrder.containerd;

  private readonly log: Logger;
  private child: ChildProcess | undefined;
  private exited: Promise<ExitStatus> | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  /** Aborted by stop(): no restart may follow. */
  private lifetime = new AbortController();
  /** Restarts in a row without one that answered, for the backoff. */
  private restarts = 0;
  /** Whether the running child has answered; an exit before that is start's to report. */
  private answered = false;
  /** The pid of a containerd adopted at start instead of spawned. */
  private adopted: number | undefined;
  private readonly lines: string[] = [];

  constructor(
    @inject(ContainerdConfig) private readonly config: ContainerdConfig,
    @inject(Logger) log: Logger,
    @optional() @inject(ManagedContainerdOptions) private readonly options: ManagedContainerdOptions = {},
  ) {
    this.log = log.child({ component: 'managed-containerd' });
  }

  /** True when the config asks for a managed containerd (`address = "managed"`). */
  get enabled(): boolean {
    return this.config.address === 'managed';
  }

  /** The gRPC socket path (also the CRI socket when the CRI plugin is enabled). Known before start. */
  get address(): string {
    return join(this.config.managed.stateDir, 'containerd.sock');
  }

  /** The generated config file. */
  get configPath(): string {
    return join(this.config.managed.stateDir, 'containerd.toml');
  }

  /** The child's pid while it runs (or that of the containerd adopted at start). */
  get pid(): number | undefined {
    return this.child?.pid ?? this.adopted;
  }

  /** Where the pid of the containerd we spawned is kept, so a crikit that was killed can adopt it. */
  private get pidFile(): string {
    return join(this.config.managed.stateDir, 'containerd.pid');
  }

  /**
   * Starts containerd and waits until it answers, within `managed.startTimeoutMs`. A no-op when not enabled or
   * already running.
   * @throws UnavailableError if the binary is missing, containerd exits or does not answer in time (with its
   *   last log lines); FailedPreconditionError if another containerd serves the socket
   */
  async start(signal: AbortSignal): Promise<void> {
    if (!this.enabled) return;
    if (this.lifetime.signal.aborted) this.lifetime = new AbortController();
    this.starting ??= this.launch(signal).finally(() => { this.starting = undefined; });
    return this.starting;
  }

  private async launch(signal: AbortSignal): Promise<void> {
    if (this.child) return;
    const { binary, rootDir, stateDir, startTimeoutMs, logLevel } = this.config.managed;
    throwIfAborted(signal, 'start containerd');
    await this.stopping;
    await mkdir(rootDir, { recursive: true, mode: 0o711 });
    await mkdir(stateDir, { recursive: true, mode: 0o711 });
    // A crikit killed with SIGKILL leaves its containerd running (and the pods with it): adopt it.
    if (await this.adopt(signal)) return;
    await this.removeStaleSockets(signal);
    await writeFile(this.configPath, containerdToml({
      rootDir, stateDir, grpcAddress: this.address, ttrpcAddress: `${this.address}.ttrpc`, logLevel,
      ...(this.options.plugins ? { plugins: this.options.plugins } : {}),
    }), { mode: 0o600 });

    const early: { exit?: ExitStatus } = {};
    const exitedEarly = new AbortController();
    const exited = this.spawnChild(binary).then(status => {
      early.exit = status;
      exitedEarly.abort();
      return status;
    });
    const probe = new GrpcContainerdClient(this.config, { socketPath: this.address }, this.log);
    try {
      const limit = deadline([signal, exitedEarly.signal], startTimeoutMs);
      await probe.waitReady(limit.signal).finally(() => limit.dispose());
      this.answered = true;
      if (this.pid !== undefined) await writeFile(this.pidFile, String(this.pid));
      this.log.info({ pid: this.pid, address: this.address, plugins: Object.keys(this.options.plugins ?? {}) },
        'containerd started');
    } catch (err) {
      // Read before stop(): an exit caused by our own SIGTERM is not the reason start failed.
      const { exit } = early;
      await this.stop(AbortSignal.timeout(this.config.managed.stopTimeoutMs + killWaitMs));
      await settlesBefore(exited, AbortSignal.timeout(killWaitMs));
      throw this.startFailure(exit, signal, err);
    } finally {
      probe.close();
    }
  }

  /**
   * Sends SIGTERM, waits up to `managed.stopTimeoutMs` (or until `signal` fires), then SIGKILL; removes the
   * sockets. Idempotent; a no-op when nothing runs.
   */
  async stop(signal: AbortSignal): Promise<void> {
    this.lifetime.abort();
    this.stopping ??= this.terminate(signal).finally(() => { this.stopping = undefined; });
    return this.stopping;
  }

  private async terminate(signal: AbortSignal): Promise<void> {
    if (this.adopted !== undefined) return this.terminateAdopted(signal);
    const { child, exited } = this;
    if (!child || !exited) return;
    child.kill('SIGTERM');
    const graceful = deadline(signal, this.config.managed.stopTimeoutMs);
    const settled = await settlesBefore(exited, graceful.signal);
    graceful.dispose();
    if (!settled) {
      this.log.warn({ pid: child.pid }, 'containerd ignored SIGTERM; sending SIGKILL');
      child.kill('SIGKILL');
      if (!(await settlesBefore(exited, AbortSignal.timeout(killWaitMs)))) {
        this.log.error({ pid: child.pid }, 'containerd did not exit after SIGKILL');
      }
    }
    // containerd removes its gRPC socket on SIGTERM but leaves the ttrpc one.
    await Promise.all([rm(this.address, { force: true }), rm(`${this.address}.ttrpc`, { force: true }), rm(this.pidFile, { force: true })]);
  }

  /** Spawns containerd; resolves when it exits or fails to spawn. */
  private spawnChild(binary: string): Promise<ExitStatus> {
    this.lines.length = 0;
    this.answered = false;
    const child = spawn(binary, ['--config', this.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    // Last resort: 'exit' handlers run synchronously, so a crikit that dies without stop() still takes
    // containerd down (its shims, in their own process groups, keep the containers running).
    const killOnExit = (): void => { child.kill('SIGKILL'); };
    process.on('exit', killOnExit);
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', line => this.keep(line));
    }
    this.exited = new Promise<ExitStatus>(resolve => {
      child.once('exit', (code, sig) => resolve({ code, signal: sig }));
      child.on('error', error => {
        if (child.pid === undefined) resolve({ code: null, signal: null, error });
        else this.log.warn({ pid: child.pid, err: error }, 'containerd child process error');
      });
    }).then(status => {
      process.off('exit', killOnExit);
      if (this.child === child) {
        this.child = undefined;
        if (!this.stopping && this.answered) {
          this.log.error({ pid: child.pid, exit: describe(status), lastLines: this.lines.slice(-10) }, 'containerd exited');
          this.restartLater();
        }
      }
      return status;
    });
    return this.exited;
  }

  /**
   * crikit supervises the containerd it started, as systemd would: an unexpected exit is followed by
   * a restart, with backoff (0.1 s doubling to 10 s) while restarts keep failing. Running pods are
   * unaffected (their shims outlive containerd); the client and event monitor reconnect by themselves.
   */
  private restartLater(): void {
    const delay = backoffDelay({ initialMs: this.options.restartDelayMs ?? 100, maxMs: 10_000 }, this.restarts + 1);
    this.restarts++;
    const lifetime = this.lifetime.signal;
    setTimeout(() => {
      if (lifetime.aborted) return;
      this.start(lifetime).then(() => {
        this.restarts = 0;
        this.log.info({ pid: this.pid }, 'containerd restarted');
      }, err => {
        if (lifetime.aborted) return;
        this.log.error({ err }, 'restart containerd');
        this.restartLater();
      });
    }, delay).unref();
  }

  private keep(line: string): void {
    this.lines.push(line);
    if (this.lines.length > keptLines) this.lines.shift();
    this.log.debug({ line }, 'containerd');
  }

  /**
   * Takes over a containerd this class spawned earlier (its pid file names a live process started
   * with our config) when it still answers on the socket.
   * @returns whether it did
   */
  private async adopt(signal: AbortSignal): Promise<boolean> {
    const pid = Number(await readFile(this.pidFile, 'utf8').catch(() => ''));
    if (!Number.isInteger(pid) || pid <= 0) return false;
    if (!(await runsConfig(pid, this.configPath))) return false;
    const probe = new GrpcContainerdClient(this.config, { socketPath: this.address }, this.log);
    const answers = await probe.isHealthy(signal).finally(() => probe.close());
    if (!answers) return false;
    this.adopted = pid;
    this.answered = true;
    this.log.info({ pid, address: this.address }, 'adopted the running containerd');
    this.watchAdopted(pid);
    return true;
  }

  /**
   * Polls an adopted containerd and restarts it when it dies, as for one we spawned: without this, a
   * crikit restarted after a SIGKILL would be left without containerd for good once its containerd dies.
   */
  private watchAdopted(pid: number): void {
    const lifetime = this.lifetime.signal;
    const timer = setInterval(() => {
      if (lifetime.aborted || this.adopted !== pid) { clearInterval(timer); return; }
      void runsConfig(pid, this.configPath).then(alive => {
        if (alive || lifetime.aborted || this.adopted !== pid || this.stopping) return;
        clearInterval(timer);
        this.adopted = undefined;
        this.answered = false;
        this.log.error({ pid }, 'the adopted containerd exited');
        this.restartLater();
      });
    }, adoptedPollMs);
    timer.unref();
  }

  /** Stops an adopted containerd: not our child, so its exit is polled. */
  private async terminateAdopted(signal: AbortSignal): Promise<void> {
    const pid = this.adopted!;
    const alive = (): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
    const gone = async (until: AbortSignal): Promise<boolean> => {
      while (alive() && !until.aborted) await new Promise(r => setTimeout(r, 50));
      return !alive();
    };
    try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ }
    const graceful = deadline(signal, this.config.managed.stopTimeoutMs);
    const exited = await gone(graceful.signal);
    graceful.dispose();
    if (!exited) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      await gone(AbortSignal.timeout(killWaitMs));
    }
    this.adopted = undefined;
    await Promise.all([rm(this.address, { force: true }), rm(`${this.address}.ttrpc`, { force: true }), rm(this.pidFile, { force: true })]);
  }

  /** Removes sockets a killed containerd left behind. @throws FailedPreconditionError if one still answers */
  private async removeStaleSockets(signal: AbortSignal): Promise<void> {
    if (existsSync(this.address)) {
      const probe = new GrpcContainerdClient(this.config, { socketPath: this.address }, this.log);
      const answers = await probe.isHealthy(signal).finally(() => probe.close());
      if (answers) throw new FailedPreconditionError(`start containerd: another containerd already serves "${this.address}"`);
    }
    await Promise.all([rm(this.address, { force: true }), rm(`${this.address}.ttrpc`, { force: true })]);
  }

  /** Why start failed: the spawn, an early exit, the caller's signal, or the start timeout. */
  private startFailure(exit: ExitStatus | undefined, signal: AbortSignal, err: unknown): CriError {
    const { binary, startTimeoutMs } = this.config.managed;
    const doing = 'start containerd';
    if (exit?.error?.code === 'ENOENT') {
      return new UnavailableError(`${doing}: "${binary}" not found; install containerd (apt-get install -y containerd runc)`,
        { cause: exit.error });
    }
    if (exit?.error) return new UnavailableError(`${doing}: spawn "${binary}": ${exit.error.message}`, { cause: exit.error });
    if (exit) return new UnavailableError(`${doing}: "${binary}" exited (${describe(exit)}) during start-up${this.tail()}`);
    if (signal.aborted) return abortError(signal, doing);
    return new UnavailableError(
      `${doing}: "${binary}" did not answer on "${this.address}" within ${startTimeoutMs} ms${this.tail()}`, { cause: err });
  }

  /** The last log lines, for an error message. */
  private tail(): string {
    return this.lines.length === 0 ? '' : `; its last log lines:\n${this.lines.join('\n')}`;
  }
}

function describe(status: ExitStatus): string {
  return status.signal ? `signal ${status.signal}` : `code ${status.code}`;
}

/** True if `promise` settles before `signal` fires. */
async function settlesBefore(promise: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<boolean>(resolve => {
    onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}
