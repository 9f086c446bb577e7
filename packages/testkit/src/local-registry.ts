/**
 * Runs Debian's docker-registry (distribution 2.8) on 127.0.0.1 for integration tests.
 *
 *   start() ──► running ──stopProcess()──► stopped ──restart()──► running
 *                  │                          │
 *                  └────────── stop() ────────┴──► removed (process gone, temp dir deleted)
 *
 * The process never outlives the test process: it is started under `setpriv --pdeathsig KILL` when
 * setpriv exists, and a process 'exit' hook kills it and removes its directory in any case.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { access, constants as fsConstants, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';

/** A user name and password for HTTP basic authentication. */
export interface BasicCredentials {
  readonly user: string;
  readonly password: string;
}

/** Options for `LocalRegistry.start`. */
export interface LocalRegistryOptions {
  /** Require this user (htpasswd auth, HTTP basic); anonymous access by default. */
  readonly htpasswd?: BasicCredentials;
  /** The registry binary; `/usr/bin/docker-registry` (Debian's docker-registry) by default. */
  readonly binary?: string;
  /** How long to wait for `GET /v2/` to answer; 20 s by default. */
  readonly readyTimeoutMs?: number;
}

const SETPRIV = '/usr/bin/setpriv';
const DIR_PREFIX = 'crikit-registry-';
/** Holds the PID of the process that owns a registry directory. */
const OWNER_FILE = 'owner.pid';
const LOG_TAIL_BYTES = 16 * 1024;

/** A docker-registry child process with filesystem storage in a private temporary directory. */
export class LocalRegistry {
  /** Registries whose process or directory may still exist, for the process 'exit' hook. */
  private static readonly live = new Set<LocalRegistry>();
  private static exitHookInstalled = false;
  /** `127.0.0.1:<port>`, the registry host as written in image references. */
  readonly host: string;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Root of the filesystem storage driver (`<dir>/storage`). */
  readonly storageRoot: string;
  /** The credentials the registry requires, if started with `htpasswd`. */
  readonly credentials: BasicCredentials | undefined;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private logTail = '';
  private removed = false;

  private constructor(
    /** The TCP port on 127.0.0.1, kept across `restart()`. */
    readonly port: number,
    /** The temporary directory holding config, htpasswd and storage. */
    readonly dir: string,
    private readonly binary: string,
    private readonly readyTimeoutMs: number,
    credentials: BasicCredentials | undefined,
  ) {
    this.host = `127.0.0.1:${port}`;
    this.url = `http://${this.host}`;
    this.storageRoot = join(dir, 'storage');
    this.credentials = credentials;
  }

  /**
   * Starts a registry on a free port and waits until `GET /v2/` answers (200, or 401 with htpasswd).
   * @throws Error telling to install docker-registry when the binary is missing, or with the
   * registry's output when it exits or does not answer in time (nothing is left behind then)
   */
  static async start(options: LocalRegistryOptions = {}): Promise<LocalRegistry> {
    const binary = options.binary ?? '/usr/bin/docker-registry';
    try {
      await access(binary, fsConstants.X_OK);
    } catch (err) {
      throw new Error(`start registry: ${binary} not found: install docker-registry (apt-get install docker-registry)`, { cause: err });
    }
    await removeOrphanedDirs();
    for (let attempt = 1; ; attempt++) {
      const dir = await mkdtemp(join(tmpdir(), DIR_PREFIX));
      await writeFile(join(dir, OWNER_FILE), `${process.pid}\n`);
      const registry = new LocalRegistry(await freePort(), dir, binary, options.readyTimeoutMs ?? 20_000, options.htpasswd);
      LocalRegistry.live.add(registry);
      LocalRegistry.installExitHook();
      try {
        await mkdir(registry.storageRoot);
        await registry.writeConfig();
        await registry.launch();
        return registry;
      } catch (err) {
        await registry.stop();
        // Another process may take the free port between our probe and the registry's bind: try another.
        if (attempt < 3 && /address already in use/.test(registry.logs())) continue;
        throw err;
      }
    }
  }

  /** PID of the running registry process, if any. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last few KiB the registry wrote to stdout and stderr. */
  logs(): string {
    return this.logTail;
  }

  /** Stops the process (SIGTERM, SIGKILL after 5 s) and keeps port and storage. Idempotent. */
  async stopProcess(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    holdEventLoop(child, 'ref');
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>(resolve => {
        timer = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, 5_000);
      });
      await Promise.race([this.exited, killed]);
      clearTimeout(timer);
    }
    await this.exited;
    this.child = undefined;
  }

  /**
   * Starts the process again on the same port with the same storage, stopping it first if running.
   * @throws Error when the registry is removed, or when it does not come up (the port may be taken)
   */
  async restart(): Promise<void> {
    if (this.removed) throw new Error(`restart registry ${this.host}: already stopped and removed`);
    await this.stopProcess();
    await this.launch();
  }

  /** Stops the process and removes the temporary directory with all storage. Idempotent. */
  async stop(): Promise<void> {
    await this.stopProcess();
    if (!this.removed) {
      this.removed = true;
      await rm(this.dir, { recursive: true, force: true });
    }
    LocalRegistry.live.delete(this);
  }

  private async writeConfig(): Promise<void> {
    const q = (s: string): string => JSON.stringify(s); // a JSON string is a valid YAML scalar
    const lines = [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  formatter: text',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${q(this.storageRoot)}`,
      '  delete:',
      '    enabled: true',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: ${q(this.host)}`,
      // An explicit secret avoids the registry's warning about generating one.
      `  secret: ${q(randomBytes(16).toString('hex'))}`,
    ];
    if (this.credentials !== undefined) {
      const { user, password } = this.credentials;
      if (user.includes(':') || /\s/.test(user)) throw new Error(`start registry: invalid htpasswd user "${user}"`);
      const htpasswdPath = join(this.dir, 'htpasswd');
      // Cost 4 (the minimum): the registry checks the hash on every request, and tests make many.
      await writeFile(htpasswdPath, `${user}:${bcrypt.hashSync(password, 4)}\n`, { mode: 0o600 });
      lines.push('auth:', '  htpasswd:', '    realm: crikit-testkit', `    path: ${q(htpasswdPath)}`);
    }
    await writeFile(join(this.dir, 'config.yml'), lines.join('\n') + '\n');
  }

  private async launch(): Promise<void> {
    const args = ['serve', join(this.dir, 'config.yml')];
    // setpriv makes the kernel SIGKILL the registry if this process dies without running 'exit' hooks.
    const child = existsSync(SETPRIV)
      ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', this.binary, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.logTail = '';
    // 'close' comes after 'exit' and after the last output is read, so logs() is complete by then.
    this.exited = new Promise(resolve => child.once('close', () => resolve()));
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        this.logTail = (this.logTail + chunk.toString('utf8')).slice(-LOG_TAIL_BYTES);
      });
    }
    try {
      await Promise.race([this.waitReady(child), spawnError]);
    } catch (err) {
      await this.stopProcess();
      throw new Error(`start registry ${this.host}: ${(err as Error).message}\n${this.logTail}`, { cause: err });
    }
    // Once running, the child does not keep the test process alive (the 'exit' hook still kills it).
    // It is referenced again while stopProcess() waits for it.
    holdEventLoop(child, 'unref');
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    const ready = this.credentials !== undefined ? [401] : [200];
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`registry exited (code ${child.exitCode}, signal ${child.signalCode}) before answering`);
      }
      const status = await probe(`${this.url}/v2/`);
      if (status !== undefined && ready.includes(status)) return;
      if (status !== undefined) throw new Error(`GET /v2/ answered ${status}`);
      if (Date.now() > deadline) throw new Error(`GET /v2/ did not answer within ${this.readyTimeoutMs} ms`);
      await new Promise(resolve => setTimeout(resolve, 50));
    }
  }

  /** Kills every live registry and removes its directory when the process exits; only sync work runs there. */
  private static installExitHook(): void {
    if (LocalRegistry.exitHookInstalled) return;
    LocalRegistry.exitHookInstalled = true;
    process.on('exit', () => {
      for (const registry of LocalRegistry.live) registry.killNow();
      LocalRegistry.live.clear();
    });
  }

  private killNow(): void {
    const pid = this.child?.pid;
    if (pid !== undefined && this.child?.exitCode === null && this.child.signalCode === null) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Refs or unrefs the child and its pipes, which decides whether they keep the event loop alive. */
function holdEventLoop(child: ChildProcess, how: 'ref' | 'unref'): void {
  child[how]();
  for (const stream of [child.stdout, child.stderr]) (stream as { ref?: () => void; unref?: () => void } | null)?.[how]?.();
}

/** The status of `GET url`, or undefined while nothing listens. */
function probe(url: string): Promise<number | undefined> {
  return new Promise(resolve => {
    const req = httpGet(url, { timeout: 1_000, agent: false }, res => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/**
 * Removes registry directories left by test processes that were killed before their 'exit' hook ran
 * (their registries died with them through the parent-death signal). A directory whose owner still
 * runs, or that has no owner file yet, is left alone.
 */
async function removeOrphanedDirs(): Promise<void> {
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const pid = Number.parseInt(await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => ''), 10);
    if (!Number.isInteger(pid) || pid <= 0 || isAlive(pid)) continue;
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Whether `pid` is a live process; a zombie (dead, not yet reaped) is not. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true; // no procfs: trust kill(0)
  }
}

/** A TCP port free on 127.0.0.1 right now (the kernel picks it for a listener on port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('free port: no port assigned'))));
    });
  });
}
