import fs from 'node:fs/promises';
import path from 'node:path';
import { inject, injectable, optional } from 'inversify';
import { DirectProcessRunner, FailedPreconditionError, Logger, ProcessRunner, RuntimeObserver, UnavailableError } from '@crikit/core';
import { CniErrorCode, CniPluginError, describeCniFailure, type CniCommand, type CniPluginFailure } from './cni-plugin-error.js';
import { NetworkCniConfig } from './network-cni-config.js';

/** One plugin invocation: the CNI_* environment and the config that goes to stdin. */
export interface CniPluginRequest {
  readonly command: CniCommand;
  /** The plugin's config as sent on stdin: `type`, `name`, `cniVersion`, and `prevResult`/`runtimeConfig` when due. */
  readonly config: Readonly<Record<string, unknown>>;
  /** CNI_CONTAINERID; unset for STATUS, GC and VERSION. */
  readonly containerId?: string | undefined;
  /** CNI_NETNS; '' or unset when there is none (DEL after the netns went away). */
  readonly netns?: string | undefined;
  /** CNI_IFNAME. */
  readonly ifName?: string | undefined;
  /** CNI_ARGS, `K=V;K=V`. */
  readonly args?: string | undefined;
  /** What crikit is doing, prefixed to every error message (`attach pod "web/default" to cni network "crikit"`). */
  readonly doing: string;
}

/** Output beyond this is a broken plugin, not a result. */
const maxOutputBytes = 4 << 20;

/**
 * Runs CNI plugin binaries the way libcni's invoke package does: finds the binary in `binDirs`
 * (first hit), passes the CNI_* variables on top of crikit's own environment, writes the config to
 * stdin and reads a result or a CNI error object from stdout. A plugin that outlives
 * `pluginTimeoutMs` or the caller's signal is killed, with what it started (its own process group).
 * The plugins run through the ProcessRunner (crikitd's spawn helper), directly when none is bound.
 */
@injectable()
export class CniPluginExec {
  constructor(
    @inject(NetworkCniConfig) private readonly config: NetworkCniConfig,
    @inject(Logger) private readonly log: Logger,
    @inject(RuntimeObserver) @optional() private readonly observer?: RuntimeObserver,
    @inject(ProcessRunner) @optional() private readonly runner: ProcessRunner = new DirectProcessRunner(),
  ) {}

  /**
   * The path of the plugin binary `type`, from the first bin dir that has it.
   * @throws UnavailableError when no bin dir has it (the plugins may not be installed yet)
   * @throws FailedPreconditionError when `type` is not a plain file name
   */
  async find(type: string, doing: string): Promise<string> {
    if (type === '' || type.includes('/') || type === '.' || type === '..') {
      throw new FailedPreconditionError(`${doing}: invalid plugin type "${type}"`);
    }
    for (const dir of this.config.binDirs) {
      const file = path.join(dir, type);
      try {
        await fs.access(file, fs.constants.X_OK);
        return file;
      } catch {
        // not here: try the next dir, as libcni's FindInPath does
      }
    }
    throw new UnavailableError(`${doing}: cni plugin "${type}" not found in ${this.config.binDirs.join(':')}`);
  }

  /**
   * Runs one plugin and returns its parsed stdout (a result for ADD/VERSION; undefined when the
   * plugin printed nothing, as for DEL, CHECK, STATUS and GC).
   * @throws CniPluginError when the plugin fails or prints something that is not JSON
   * @throws UnavailableError when it answers "try again later" (code 11, 50, 51) or is not installed
   * @throws DeadlineExceededError when it runs longer than `pluginTimeoutMs`
   * @throws CancelledError, DeadlineExceededError when `signal` fires (the plugin is killed)
   */
  async exec(req: CniPluginRequest, signal: AbortSignal): Promise<unknown> {
    const type = String(req.config.type ?? '');
    const bin = await this.find(type, req.doing);
    const env: Record<string, string> = {
      CNI_COMMAND: req.command,
      CNI_PATH: this.config.binDirs.join(':'),
    };
    if (req.containerId !== undefined) env.CNI_CONTAINERID = req.containerId;
    if (req.netns !== undefined) env.CNI_NETNS = req.netns;
    if (req.ifName !== undefined) env.CNI_IFNAME = req.ifName;
    if (req.args !== undefined) env.CNI_ARGS = req.args;
    const started = Date.now();
    const out = await this.runner.run({
      file: bin, env, stdin: JSON.stringify(req.config), timeoutMs: this.config.pluginTimeoutMs, maxOutputBytes, ownGroup: true,
      doing: `${req.doing}: plugin "${type}" ${req.command}`,
    }, signal).catch(err => { this.observe(type, req.command, started, 'error'); throw err; });
    this.observe(type, req.command, started, out.code === 0 ? 'ok' : 'error');
    this.log.debug({ plugin: type, command: req.command, containerId: req.containerId, exitCode: out.code, ms: Date.now() - started }, 'cni plugin ran');
    const failure = (f: Omit<CniPluginFailure, 'plugin' | 'command'>): CniPluginFailure => ({ plugin: type, command: req.command, ...f });
    if (out.outputExceeded) throw new CniPluginError(req.doing, failure({ code: 0, msg: `printed more than ${maxOutputBytes} bytes`, details: '' }));
    if (out.code !== 0) {
      const parsed = parseErrorObject(out.stdout);
      const f = failure(parsed ?? { code: 0, msg: out.stderr.trim() || `exit status ${out.code ?? out.signal}`, details: '' });
      const err = new CniPluginError(req.doing, f);
      if (f.code === CniErrorCode.tryAgainLater || f.code === CniErrorCode.pluginNotAvailable || f.code === CniErrorCode.limitedConnectivity) {
        throw new UnavailableError(`${req.doing}: ${describeCniFailure(f)}`, { cause: err });
      }
      throw err;
    }
    const text = out.stdout.trim();
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new CniPluginError(req.doing, failure({ code: 0, msg: 'printed a result that is not JSON', details: text.slice(0, 200) }), { cause });
    }
  }

  // Metrics must never fail a plugin run: an observer that throws is logged and ignored.
  private observe(type: string, command: CniCommand, started: number, outcome: 'ok' | 'error'): void {
    try {
      this.observer?.cniPluginFinished(type, command, (Date.now() - started) / 1000, outcome);
    } catch (err) {
      this.log.warn({ plugin: type, err }, 'runtime observer threw');
    }
  }
}

/** The CNI error object `{cniVersion, code, msg, details}` a failing plugin prints, or undefined. */
function parseErrorObject(stdout: string): { code: number; msg: string; details: string } | undefined {
  try {
    const obj = JSON.parse(stdout) as unknown;
    if (typeof obj !== 'object' || obj === null) return undefined;
    const { code, msg, details } = obj as Record<string, unknown>;
    if (typeof code !== 'number') return undefined;
    return { code, msg: typeof msg === 'string' ? msg : '', details: typeof details === 'string' ? details : '' };
  } catch {
    return undefined;
  }
}
