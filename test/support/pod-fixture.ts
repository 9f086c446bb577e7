import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cri, type PartialMessage } from '@crikit/api';

/** The failpoint CNI plugin of test/fixtures/cni (a node script). */
export const fixtureCniDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/cni');

/** A bridge network for tests: its own bridge and subnet, host-local state under `dir`. */
export interface TestNetwork {
  readonly bridge: string;
  readonly subnet: string;
  readonly gateway: string;
  /** host-local's data dir: one file per allocated IP. */
  readonly ipamDir: string;
  /** When this file exists, the failpoint plugin fails `failOn`; while it holds "hang", `failOn` hangs. */
  readonly failFile: string;
  /** IPs host-local holds now. */
  allocatedIps(): string[];
  /** Deletes the bridge and the iptables chains the plugins left. */
  cleanup(): void;
}

/** Writes a conflist (bridge + host-local + portmap + the failpoint plugin) into `confDir`. */
export function writeTestNetwork(confDir: string, dir: string, n: number, failOn = 'ADD'): TestNetwork {
  const bridge = `ck${n}`;
  const subnet = `10.88.${n}.0/24`;
  const ipamDir = path.join(dir, 'ipam');
  const failFile = path.join(dir, 'cni-fail');
  fs.writeFileSync(path.join(confDir, '10-crikit-test.conflist'), JSON.stringify({
    cniVersion: '1.0.0', name: `crikit-test-${n}`,
    plugins: [
      { type: 'bridge', bridge, isGateway: true, ipMasq: false, hairpinMode: true, ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ipamDir } },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      { type: 'failpoint', failOn, whenFile: failFile },
    ],
  }));
  return {
    bridge, subnet, gateway: `10.88.${n}.1`, ipamDir, failFile,
    allocatedIps: () => {
      const d = path.join(ipamDir, `crikit-test-${n}`);
      return fs.existsSync(d) ? fs.readdirSync(d).filter(f => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : [];
    },
    cleanup: () => {
      try { execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' }); } catch { /* not there */ }
    },
  };
}

let attempt = 0;
/** A kubelet-shaped PodSandboxConfig. */
export function podConfig(name: string, extra: PartialMessage<cri.PodSandboxConfig> = {}): PartialMessage<cri.PodSandboxConfig> {
  return {
    metadata: { name, namespace: 'crikit-test', uid: `uid-${name}-${process.pid}`, attempt: attempt++ },
    hostname: name,
    logDirectory: `/tmp/crikit-test-logs/${name}`,
    labels: { app: name },
    annotations: { 'test/owner': 'crikit' },
    linux: { cgroupParent: '/crikit-test', securityContext: { namespaceOptions: { network: cri.NamespaceMode.POD, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD } } },
    ...extra,
  };
}

/** Runs `cmd` inside the network namespace at `netns`. */
export function inNetns(netns: string, cmd: string[]): string {
  return execFileSync('nsenter', [`--net=${netns}`, ...cmd], { encoding: 'utf8', timeout: 15_000 });
}
