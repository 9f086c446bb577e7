/**
 * What the tests run crikit against: private dirs for crikit and its managed containerd, and
 * Debian's docker-registry on 127.0.0.1 (from @crikit/testkit) holding a busybox image built from
 * the host's busybox-static, and a pause image from catatonit. Needs root, containerd, runc,
 * docker-registry, busybox-static and catatonit.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { busyboxImage, LocalRegistry, pauseImage, pushImage } from '@crikit/testkit';

/** Private dirs and the crikit config that uses them. */
export interface TestDirs {
  readonly dir: string;
  readonly socket: string;
  /** hosts.toml dir: registries written here are reached over plain http. */
  readonly hostsDir: string;
  /** crikit's config (as a TOML file would say it). */
  readonly config: Record<string, Record<string, unknown>>;
  /** Unmounts what is mounted under the dir and removes it (stop the runtime first). */
  cleanup(): void;
}

/** Makes the dirs (a short path: the socket path must fit a unix socket address). */
export function testDirs(): TestDirs {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckx-'));
  const hostsDir = path.join(dir, 'certs.d');
  fs.mkdirSync(path.join(dir, 'net.d'));
  const socket = path.join(dir, 'crikit.sock');
  return {
    dir, socket, hostsDir,
    config: {
      server: { socket, shutdownTimeoutMs: 5_000 },
      paths: { rootDir: path.join(dir, 'root'), stateDir: path.join(dir, 'state') },
      containerd: { managed: { rootDir: path.join(dir, 'containerd'), stateDir: path.join(dir, 'cs') } },
      cni: { confDir: path.join(dir, 'net.d') },
      image: { registryConfigDir: hostsDir },
      runtimes: { restrictOomScoreAdj: true },
    },
    cleanup: () => {
      const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map(l => l.split(' ')[4] ?? '')
        .filter(m => m === dir || m.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
      for (const m of mounts) spawnSync('umount', ['--lazy', m]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Tells crikit to reach `host` over plain http at `server` (containerd's hosts.toml layout). */
export function plainHttpHost(hostsDir: string, host: string, server: string): void {
  fs.mkdirSync(path.join(hostsDir, host), { recursive: true });
  fs.writeFileSync(path.join(hostsDir, host, 'hosts.toml'), `server = "${server}"\n`);
}

/** A registry on 127.0.0.1 holding `pause:3.10` (catatonit) and `busybox:1`. */
export async function registryWithImages(): Promise<LocalRegistry> {
  const registry = await LocalRegistry.start();
  await pushImage({ url: registry.url }, 'pause', await pauseImage(), { tag: '3.10' });
  await pushImage({ url: registry.url }, 'busybox', await busyboxImage(), { tag: '1' });
  return registry;
}
