import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'smol-toml';
import { criClient, type CriClient } from './cri-client.js';

/** Path of the built crikitd daemon: the bundle `pnpm build` makes and the `crikitd` bin runs. */
export const crikitdMain = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../packages/server/dist/crikitd.js');

/** A private set of dirs for one crikitd with managed containerd (short, for unix socket limits). */
export function tempRuntimeDirs(): { dir: string; socket: string; config: Record<string, unknown>; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ck-'));
  const confDir = path.join(dir, 'net.d');
  fs.mkdirSync(confDir);
  const socket = path.join(dir, 'crikit.sock');
  const config = {
    server: { socket, shutdownTimeoutMs: 5_000 },
    paths: { rootDir: path.join(dir, 'root'), stateDir: path.join(dir, 'state') },
    containerd: { managed: { rootDir: path.join(dir, 'containerd'), stateDir: path.join(dir, 'cs') } },
    cni: { confDir },
  };
  return { dir, socket, config, cleanup: () => removeDir(dir) };
}

/** Unmounts whatever is mounted under `dir` (netns pins, the netns dir's own bind mount, shm), then removes it. */
export function removeDir(dir: string): void {
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map(l => l.split(' ')[4] ?? '')
    .filter(m => m === dir || m.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['--lazy', m]);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A crikitd child process and a CRI client on its socket. */
export interface RunningCrikitd {
  proc: ChildProcess;
  socket: string;
  client: CriClient;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code once it exits. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `ms`; resolves with the exit code. */
  stop(ms?: number): Promise<number | null>;
}

/**
 * Writes `config` to a TOML file and spawns crikitd with it; resolves once the socket answers Version.
 * `launcher` is a command that execs crikitd (e.g. `setpriv --bounding-set -sys_time`), so its pid is crikitd's.
 */
export async function startCrikitd(config: Record<string, unknown>, dir: string, extraArgs: string[] = [], launcher: string[] = []): Promise<RunningCrikitd> {
  const file = path.join(dir, `crikit-${Date.now()}.toml`);
  fs.writeFileSync(file, stringify(config));
  const [command, ...args] = [...launcher, process.execPath, crikitdMain, '--config', file, '--log-level', 'debug', ...extraArgs];
  const proc = spawn(command!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>(resolve => proc.once('exit', code => resolve(code)));
  const socket = (config.server as { socket: string }).socket;
  const client = criClient(socket);
  const running: RunningCrikitd = {
    proc, socket, client, exited, stderr: () => err,
    stop: async (ms = 15_000) => {
      client.close();
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), ms);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
  process.once('exit', () => proc.kill('SIGKILL'));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`crikitd exited with ${proc.exitCode}: ${err}`);
    try {
      await client.runtime.version({}, { timeoutMs: 2_000 });
      return running;
    } catch (e) {
      if (Date.now() > deadline) { await running.stop(); throw new Error(`crikitd did not become ready: ${(e as Error).message}\n${err}`); }
      await new Promise(r => setTimeout(r, 200));
    }
  }
}
