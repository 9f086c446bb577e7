import fs from 'node:fs/promises';
import path from 'node:path';
import { inject, injectable, optional } from 'inversify';
import { AlreadyExistsError, DirectProcessRunner, InvalidArgumentError, Logger, PathsConfig, ProcessRunner, UnavailableError, type NetworkNamespaces } from '@crikit/core';


/** One line of /proc/self/mountinfo that matters here. */
interface MountEntry {
  readonly mountPoint: string;
  readonly fsType: string;
}

/**
 * Pins namespaces with util-linux, as `ip netns add` does without native code: the dir
 * `<stateDir>/netns` is made a private bind mount once (so the pins do not propagate to, or get
 * held by, peer mount namespaces), then `unshare --net=<file> true` bind-mounts the new
 * namespace's nsfs inode onto an empty file. The tools run through the ProcessRunner (crikitd's
 * spawn helper), directly when none is bound.
 */
@injectable()
export class PinnedNetnsManager implements NetworkNamespaces {
  /** Where namespaces are pinned. */
  readonly dir: string;
  private dirReady: Promise<void> | undefined;

  constructor(
    @inject(PathsConfig) paths: PathsConfig,
    @inject(Logger) private readonly log: Logger,
    @inject(ProcessRunner) @optional() private readonly runner: ProcessRunner = new DirectProcessRunner(),
  ) {
    this.dir = path.join(paths.stateDir, 'netns');
  }

  async create(name: string, signal: AbortSignal): Promise<string> {
    return this.pinWith(name, 'create', file => ['unshare', [`--net=${file}`, 'true']], signal);
  }

  async pin(name: string, source: string, signal: AbortSignal): Promise<string> {
    // A bind mount of /proc/<pid>/ns/net keeps the namespace after its process exits, as unshare's does.
    return this.pinWith(name, 'pin', file => ['mount', ['--bind', source, file]], signal);
  }

  private async pinWith(name: string, verb: string, command: (file: string) => [string, string[]], signal: AbortSignal): Promise<string> {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) || name.length > 200) {
      throw new InvalidArgumentError(`${verb} netns "${name}": not a valid file name`);
    }
    const file = path.join(this.dir, name);
    const doing = `${verb} netns ${file}`;
    await this.ensureDir(signal, doing);
    if (await this.exists(file)) throw new AlreadyExistsError(`${doing}: a namespace is already pinned there`);
    try {
      // A file left by a crash between the write and the mount pins nothing: it is simply reused.
      await fs.writeFile(file, '', { mode: 0o444 });
      const [tool, args] = command(file);
      await this.run(tool, args, signal, doing);
    } catch (err) {
      await fs.rm(file, { force: true }).catch(() => {});
      throw err;
    }
    this.log.debug({ netns: file }, 'pinned network namespace');
    return file;
  }

  async remove(netnsPath: string, signal: AbortSignal): Promise<void> {
    const doing = `remove netns ${netnsPath}`;
    const mount = (await readMounts()).find(m => m.mountPoint === netnsPath);
    if (mount && mount.fsType !== 'nsfs') throw new InvalidArgumentError(`${doing}: a ${mount.fsType} mount, not a network namespace`);
    // Lazy detach: a plugin or process may still hold the namespace open; the kernel frees it when the last user goes.
    if (mount) await this.run('umount', ['--lazy', netnsPath], signal, doing);
    try {
      const st = await fs.lstat(netnsPath);
      if (!st.isFile()) throw new InvalidArgumentError(`${doing}: not a regular file`);
      await fs.unlink(netnsPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // idempotent
      if (err instanceof InvalidArgumentError) throw err;
      throw new UnavailableError(`${doing}: ${(err as Error).message}`, { cause: err });
    }
    this.log.debug({ netns: netnsPath }, 'removed network namespace');
  }

  async exists(netnsPath: string): Promise<boolean> {
    return (await readMounts()).some(m => m.mountPoint === netnsPath && m.fsType === 'nsfs');
  }

  async list(): Promise<string[]> {
    const prefix = `${this.dir}/`;
    return (await readMounts())
      .filter(m => m.fsType === 'nsfs' && m.mountPoint.startsWith(prefix) && !m.mountPoint.slice(prefix.length).includes('/'))
      .map(m => m.mountPoint)
      .sort();
  }

  /** Runs a util-linux tool; a failure becomes UnavailableError carrying its stderr. */
  private async run(file: string, args: string[], signal: AbortSignal, doing: string): Promise<void> {
    const out = await this.runner.run({ file, args, timeoutMs: 30_000, doing }, signal);
    if (out.code === 0) return;
    throw new UnavailableError(`${doing}: ${file} ${args[0]}: ${out.stderr.trim() || `exit status ${out.code ?? out.signal}`}`);
  }

  /** Makes the dir a private mount point once per process; concurrent callers share the work. */
  private ensureDir(signal: AbortSignal, doing: string): Promise<void> {
    this.dirReady ??= (async () => {
      await fs.mkdir(this.dir, { recursive: true, mode: 0o711 });
      const mounted = (await readMounts()).some(m => m.mountPoint === this.dir);
      if (!mounted) await this.run('mount', ['--bind', this.dir, this.dir], signal, doing);
      await this.run('mount', ['--make-private', this.dir], signal, doing);
    })().catch(err => {
      this.dirReady = undefined; // let the next create try again
      throw err;
    });
    return this.dirReady;
  }
}

/** The mounts of this process's mount namespace, with mountinfo's octal escapes decoded. */
async function readMounts(): Promise<MountEntry[]> {
  const text = await fs.readFile('/proc/self/mountinfo', 'utf8');
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    // id parent major:minor root mount-point options [optional fields…] - fstype source super-options
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (fields.length < 5 || dash < 0) continue;
    entries.push({ mountPoint: unescapeMountPath(fields[4]!), fsType: fields[dash + 1] ?? '' });
  }
  return entries;
}

function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}
