import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { injectable } from 'inversify';
import { FailedPreconditionError } from '@crikit/core';

const run = promisify(execFile);

/** What `criu check` said about this host. */
export interface CriuStatus {
  /** True when `criu check` passed: runc can checkpoint and restore containers here. */
  readonly usable: boolean;
  /** `criu --version`'s version, when criu is installed. */
  readonly version?: string;
  /** Why criu cannot be used (not installed, or what `criu check` reported). */
  readonly reason?: string;
}

/** How long `criu check` may take. */
const checkTimeoutMs = 30_000;
/** A failed check is asked again after this long, so installing criu needs no restart of crikitd. */
const retryFailedAfterMs = 30_000;

/**
 * Finds out whether checkpoint/restore can work on this host: criu (which runc drives) must be on
 * PATH and `criu check` must pass. Asked on first use, then remembered (a failure for 30 s only).
 */
@injectable()
export class CriuProbe {
  private cached?: { readonly at: number; readonly status: CriuStatus };

  /** The host's criu status; never rejects. */
  async status(): Promise<CriuStatus> {
    const cached = this.cached;
    if (cached && (cached.status.usable || Date.now() - cached.at < retryFailedAfterMs)) return cached.status;
    const status = await probeCriu();
    this.cached = { at: Date.now(), status };
    return status;
  }

  /**
   * Resolves when criu is usable.
   * @throws FailedPreconditionError naming `what` and why criu cannot be used
   */
  async require(what: string): Promise<void> {
    const s = await this.status();
    if (!s.usable) throw new FailedPreconditionError(`${what}: checkpoint/restore needs criu: ${s.reason}`);
  }
}

/** Runs `criu --version` and `criu check` (as root, like runc runs criu). */
export async function probeCriu(binary = 'criu'): Promise<CriuStatus> {
  let version: string | undefined;
  try {
    const { stdout } = await run(binary, ['--version'], { timeout: checkTimeoutMs });
    version = /Version:\s*(\S+)/.exec(stdout)?.[1];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { usable: false, reason: `${binary} is not installed (on Debian: apt-get install criu)` };
    return { usable: false, reason: `${binary} --version: ${outputOf(err)}` };
  }
  try {
    await run(binary, ['check'], { timeout: checkTimeoutMs });
    return { usable: true, version };
  } catch (err) {
    return { usable: false, version, reason: `criu ${version ?? ''} check failed on this host: ${outputOf(err)}`.replace('  ', ' ') };
  }
}

/** The first error lines criu printed (it writes them on stdout or stderr), or the error's message. */
function outputOf(err: unknown): string {
  const e = err as { stdout?: string; stderr?: string; message?: string };
  const text = `${e.stderr ?? ''}\n${e.stdout ?? ''}`;
  const lines = text.split('\n').map(l => l.trim()).filter(Boolean);
  const errors = lines.filter(l => l.startsWith('Error'));
  const picked = (errors.length > 0 ? errors : lines).slice(0, 3).join('; ');
  return picked || (e.message ?? String(err));
}
