import fs from 'node:fs/promises';
import os from 'node:os';
import type { cri } from '@crikit/api';
import { DirectProcessRunner, UnavailableError, type ProcessRunner, type SandboxPaths } from '@crikit/core';

const direct = new DirectProcessRunner();
const mountTimeoutMs = 30_000;

// What containerd's CRI writes as a pod's /etc/hosts when the pod has its own network.
const podHosts = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
`;

/**
 * Writes hostname, hosts and resolv.conf for a pod: the pod's DNS config when it has one, the
 * host's resolv.conf otherwise; the host's hosts file and name for host-network pods.
 */
export async function writeSandboxFiles(paths: SandboxPaths, config: cri.PodSandboxConfig, hostNetwork: boolean): Promise<void> {
  await fs.mkdir(paths.dir, { recursive: true, mode: 0o755 });
  const hostname = config.hostname || (hostNetwork ? os.hostname() : '');
  await fs.writeFile(paths.hostname, `${hostname}\n`, { mode: 0o644 });
  await fs.writeFile(paths.hosts, hostNetwork ? await fs.readFile('/etc/hosts', 'utf8').catch(() => podHosts) : podHosts, { mode: 0o644 });
  await fs.writeFile(paths.resolvConf, resolvConf(config.dnsConfig) ?? await fs.readFile('/etc/resolv.conf', 'utf8').catch(() => ''), { mode: 0o644 });
}

/** resolv.conf text for a CRI DNS config, or undefined when it sets nothing (then the host's is used). */
export function resolvConf(dns: cri.DNSConfig | undefined): string | undefined {
  if (!dns || (dns.servers.length === 0 && dns.searches.length === 0 && dns.options.length === 0)) return undefined;
  const lines: string[] = [];
  if (dns.searches.length > 0) lines.push(`search ${dns.searches.join(' ')}`);
  for (const s of dns.servers) lines.push(`nameserver ${s}`);
  if (dns.options.length > 0) lines.push(`options ${dns.options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Mounts the pod's /dev/shm: a tmpfs of `sizeBytes` at `paths.shm`, with `mount` run by `runner`
 * (crikitd's spawn helper; from this process when not given).
 * @throws UnavailableError when mount fails
 */
export async function mountShm(paths: SandboxPaths, sizeBytes: number, runner: ProcessRunner = direct): Promise<void> {
  await fs.mkdir(paths.shm, { recursive: true, mode: 0o700 });
  const doing = `mount shm at ${paths.shm}`;
  const out = await runner.run({
    file: 'mount', args: ['-t', 'tmpfs', '-o', `nosuid,nodev,noexec,mode=1777,size=${sizeBytes}`, 'shm', paths.shm], timeoutMs: mountTimeoutMs, doing,
  }, AbortSignal.timeout(mountTimeoutMs * 2));
  if (out.code !== 0) throw new UnavailableError(`${doing}: ${out.stderr.trim() || `exit status ${out.code ?? out.signal}`}`);
}

/** Unmounts the shm (if mounted; `umount` run by `runner`) and removes the sandbox's state dir. Idempotent. */
export async function removeSandboxState(paths: SandboxPaths, runner: ProcessRunner = direct): Promise<void> {
  if (await isMountPoint(paths.shm)) {
    await runner.run({ file: 'umount', args: ['--lazy', paths.shm], timeoutMs: mountTimeoutMs, doing: `unmount shm at ${paths.shm}` }, AbortSignal.timeout(mountTimeoutMs * 2))
      .catch(() => undefined);
  }
  await fs.rm(paths.stateDir, { recursive: true, force: true });
}

/** Removes the sandbox's files. Idempotent. */
export async function removeSandboxFiles(paths: SandboxPaths): Promise<void> {
  await fs.rm(paths.dir, { recursive: true, force: true });
}

async function isMountPoint(p: string): Promise<boolean> {
  const mountinfo = await fs.readFile('/proc/self/mountinfo', 'utf8');
  return mountinfo.split('\n').some(line => line.split(' ')[4] === p);
}
