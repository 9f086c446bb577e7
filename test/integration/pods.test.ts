// Pod sandboxes as a kubelet drives them: real netns, real CNI plugins, a pause container from the
// local registry, through the CRI socket.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { cri } from '@crikit/api';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { criClient, type CriClient } from '../support/cri-client.js';
import { stopRuntimeAndPods } from '../support/pod-cleanup.js';
import { containerdPeek } from '../support/containerd-peek.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { inNetns, podConfig, type TestNetwork } from '../support/pod-fixture.js';

let env: PodTestEnv;
let network: TestNetwork;
let runtime: CriRuntime;
let c: CriClient;

const ready = (s: cri.PodSandboxStatus | undefined) => s?.state === cri.PodSandboxState.SANDBOX_READY;
async function statusOf(id: string) {
  const r = await c.runtime.podSandboxStatus({ podSandboxId: id, verbose: true });
  return { status: r.status!, info: JSON.parse(r.info.info ?? '{}') as { pid: number; netNamespacePath: string } };
}
const listDir = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d) : []);
const netnsFiles = () => listDir(path.join(env.config.paths.stateDir, 'netns'));
const sandboxDirs = () => listDir(path.join(env.config.paths.rootDir, 'sandboxes'));

before(async () => {
  env = await podTestEnv(77, { runtimes: { handlers: { runc: {}, broken: { binaryName: '/nonexistent/runc' } } } });
  network = env.network;
  runtime = createRuntime({ config: env.config });
  await runtime.start(AbortSignal.timeout(60_000));
  c = criClient(runtime.socket);
});
after(async () => {
  c?.close();
  await stopRuntimeAndPods(runtime);
  await env?.cleanup();
});

describe('networked pods', () => {
  test('two pods get distinct IPs in the subnet and reach each other', async () => {
    const a = (await c.runtime.runPodSandbox({ config: podConfig('alpha') })).podSandboxId;
    const b = (await c.runtime.runPodSandbox({ config: podConfig('beta') })).podSandboxId;
    const sa = await statusOf(a);
    const sb = await statusOf(b);
    assert.ok(ready(sa.status) && ready(sb.status));
    assert.match(sa.status.network!.ip, /^10\.88\.77\.\d+$/);
    assert.match(sb.status.network!.ip, /^10\.88\.77\.\d+$/);
    assert.notEqual(sa.status.network!.ip, sb.status.network!.ip);
    assert.ok(sa.info.pid > 0);
    inNetns(sa.info.netNamespacePath, ['busybox', 'ping', '-c', '1', '-W', '3', sb.status.network!.ip]);
    assert.deepEqual(network.allocatedIps().sort(), [sa.status.network!.ip, sb.status.network!.ip].sort());
    const listed = await c.runtime.listPodSandbox({ filter: { labelSelector: { app: 'alpha' } } });
    assert.deepEqual(listed.items.map(i => i.id), [a]);

    await c.runtime.stopPodSandbox({ podSandboxId: a });
    assert.equal((await statusOf(a)).status.state, cri.PodSandboxState.SANDBOX_NOTREADY, 'a stopped sandbox stays listed, not ready');
    await c.runtime.stopPodSandbox({ podSandboxId: a });
    assert.deepEqual(network.allocatedIps(), [sb.status.network!.ip], 'stop released the IP');
    await c.runtime.removePodSandbox({ podSandboxId: a });
    await c.runtime.removePodSandbox({ podSandboxId: a });
    await c.runtime.removePodSandbox({ podSandboxId: b });
    await c.runtime.stopPodSandbox({ podSandboxId: 'f'.repeat(64) });
    assert.deepEqual(network.allocatedIps(), []);
    assert.deepEqual(netnsFiles(), []);
    assert.deepEqual(sandboxDirs(), []);
  });

  test('a host-network pod shares the host\'s network namespace and has no pod IP', async () => {
    const id = (await c.runtime.runPodSandbox({ config: podConfig('hostnet', {
      linux: { securityContext: { namespaceOptions: { network: cri.NamespaceMode.NODE, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD } } },
    }) })).podSandboxId;
    const s = await statusOf(id);
    assert.equal(s.status.network!.ip, '');
    assert.equal(fs.readlinkSync(`/proc/${s.info.pid}/ns/net`), fs.readlinkSync('/proc/self/ns/net'));
    await c.runtime.updatePodSandboxResources({ podSandboxId: id, resources: { cpuShares: 1024n } });
    await c.runtime.removePodSandbox({ podSandboxId: id });
    await assert.rejects(c.runtime.updatePodSandboxResources({ podSandboxId: id }), (e: { code: number }) => e.code === status.NOT_FOUND);
  });

  test('a hostPort mapping reaches the pod from the host', async () => {
    const id = (await c.runtime.runPodSandbox({ config: podConfig('web', { portMappings: [{ protocol: cri.Protocol.TCP, containerPort: 8080, hostPort: 18080 }] }) })).podSandboxId;
    const s = await statusOf(id);
    const www = fs.mkdtempSync(path.join(env.dirs.dir, 'www-'));
    fs.writeFileSync(path.join(www, 'index.html'), 'hello from the pod\n');
    const httpd = spawn('nsenter', [`--net=${s.info.netNamespacePath}`, 'busybox', 'httpd', '-f', '-p', '8080', '-h', www], { stdio: 'ignore' });
    try {
      await new Promise(r => setTimeout(r, 300));
      const body = await httpGet(network.gateway, 18080);
      assert.match(body, /hello from the pod/);
    } finally {
      httpd.kill();
      await c.runtime.removePodSandbox({ podSandboxId: id });
    }
  });

  test('DNS config lands in resolv.conf; sysctls are applied; a non-namespaced sysctl is refused', async () => {
    const id = (await c.runtime.runPodSandbox({ config: podConfig('tuned', {
      dnsConfig: { servers: ['10.96.0.10'], searches: ['crikit-test.svc.cluster.local'], options: ['ndots:5'] },
      linux: {
        sysctls: { 'net.ipv4.ip_unprivileged_port_start': '80', 'kernel.shmmni': '2048' },
        securityContext: { namespaceOptions: { network: cri.NamespaceMode.POD, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD } },
      },
    }) })).podSandboxId;
    const s = await statusOf(id);
    assert.equal(fs.readFileSync(path.join(env.config.paths.rootDir, 'sandboxes', id, 'resolv.conf'), 'utf8'),
      'search crikit-test.svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
    assert.equal(inNetns(s.info.netNamespacePath, ['cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start']).trim(), '80');
    assert.equal(execFileSync('nsenter', [`--target=${s.info.pid}`, '--ipc', 'cat', '/proc/sys/kernel/shmmni'], { encoding: 'utf8' }).trim(), '2048');
    await c.runtime.removePodSandbox({ podSandboxId: id });
    await assert.rejects(c.runtime.runPodSandbox({ config: podConfig('panicky', { linux: { sysctls: { 'kernel.panic': '1' } } }) }),
      (e: { code: number; details: string }) => e.code === status.INVALID_ARGUMENT && e.details.includes('kernel.panic'));
  });

  test('a sysctl of the pod\'s eth0 is applied: the pause container is made after CNI made eth0', async () => {
    const id = (await c.runtime.runPodSandbox({ config: podConfig('eth0-tuned', {
      linux: { sysctls: { 'net.ipv4.conf.eth0.arp_ignore': '2', 'net.ipv4.conf.all.arp_announce': '1' } },
    }) })).podSandboxId;
    const s = await statusOf(id);
    assert.equal(inNetns(s.info.netNamespacePath, ['cat', '/proc/sys/net/ipv4/conf/eth0/arp_ignore']).trim(), '2');
    assert.equal(inNetns(s.info.netNamespacePath, ['cat', '/proc/sys/net/ipv4/conf/all/arp_announce']).trim(), '1');
    await c.runtime.stopPodSandbox({ podSandboxId: id });
    await c.runtime.removePodSandbox({ podSandboxId: id });
  });
});

describe('the pause process', () => {
  const procStatus = (pid: number, key: string) => /^(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find(l => l.startsWith(`${key}:`)) ?? '')![1]!.split(/\s+/).slice(1);

  test('runs under the pod\'s cgroup parent with the RuntimeDefault seccomp it asks and the pause image\'s user', async () => {
    const id = (await c.runtime.runPodSandbox({ config: podConfig('confined', {
      linux: { cgroupParent: '/crikit-test', securityContext: {
        seccomp: { profileType: cri.SecurityProfile_ProfileType.RuntimeDefault },
        namespaceOptions: { network: cri.NamespaceMode.POD, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD },
      } },
    }) })).podSandboxId;
    const { info } = await statusOf(id);
    assert.deepEqual(procStatus(info.pid, 'Seccomp'), ['2'], 'seccomp filter mode');
    assert.equal(procStatus(info.pid, 'Uid')[0], '65535', 'the pause image runs as 65535');
    assert.match(fs.readFileSync(`/proc/${info.pid}/cgroup`, 'utf8'), new RegExp(`/crikit-test/${id}$`, 'm'));
    await c.runtime.removePodSandbox({ podSandboxId: id });
  });

  test('a pod that asks no seccomp profile gets none for its pause, as containerd', async () => {
    const id = (await c.runtime.runPodSandbox({ config: podConfig('unset-seccomp') })).podSandboxId;
    const { info } = await statusOf(id);
    assert.deepEqual(procStatus(info.pid, 'Seccomp'), ['0']);
    await c.runtime.removePodSandbox({ podSandboxId: id });
  });

  test('honours the sandbox security context: run-as user and group, Unconfined seccomp', async () => {
    const id = (await c.runtime.runPodSandbox({ config: podConfig('custom', {
      linux: { cgroupParent: '/crikit-test', securityContext: {
        runAsUser: { value: 1234n }, runAsGroup: { value: 4321n }, seccomp: { profileType: cri.SecurityProfile_ProfileType.Unconfined },
        namespaceOptions: { network: cri.NamespaceMode.POD, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD },
      } },
    }) })).podSandboxId;
    const { info } = await statusOf(id);
    assert.equal(procStatus(info.pid, 'Uid')[0], '1234');
    assert.equal(procStatus(info.pid, 'Gid')[0], '4321');
    assert.deepEqual(procStatus(info.pid, 'Seccomp'), ['0']);
    await c.runtime.removePodSandbox({ podSandboxId: id });
  });
});

describe('refusals and rollback leave nothing behind', () => {
  async function assertClean(): Promise<void> {
    assert.deepEqual(network.allocatedIps(), [], 'no IP left allocated');
    assert.deepEqual(netnsFiles(), [], 'no netns left');
    assert.deepEqual(sandboxDirs(), [], 'no sandbox files left');
    assert.deepEqual((await c.runtime.listPodSandbox({})).items, []);
    const peek = await containerdPeek(path.join(env.dirs.dir, 'cs', 'containerd.sock'));
    try {
      assert.deepEqual((await peek.containers.list({ filters: [] })).containers.map(x => x.id), [], 'no containerd container left');
      const snaps: string[] = [];
      for await (const page of peek.snapshots.list({ snapshotter: 'overlayfs', filters: [] })) snaps.push(...page.info.filter(i => i.kind === 2).map(i => i.name));
      assert.deepEqual(snaps, [], 'no active snapshot left');
    } finally {
      peek.close();
    }
  }

  test('a duplicate name is ALREADY_EXISTS; an unknown runtime handler is INVALID_ARGUMENT', async () => {
    const cfg = podConfig('dup');
    const id = (await c.runtime.runPodSandbox({ config: cfg })).podSandboxId;
    await assert.rejects(c.runtime.runPodSandbox({ config: cfg }), (e: { code: number; details: string }) => e.code === status.ALREADY_EXISTS && e.details.includes(id));
    await c.runtime.removePodSandbox({ podSandboxId: id });
    await assert.rejects(c.runtime.runPodSandbox({ config: podConfig('gvisor'), runtimeHandler: 'runsc' }),
      (e: { code: number; details: string }) => e.code === status.INVALID_ARGUMENT && e.details.includes('runsc'));
    await assertClean();
  });

  test('CNI ADD failing undoes the netns, files and name', async () => {
    fs.writeFileSync(network.failFile, '');
    const cfg = podConfig('cnifail');
    try {
      await assert.rejects(c.runtime.runPodSandbox({ config: cfg }), (e: { details: string }) => e.details.includes('failpoint'));
    } finally {
      fs.rmSync(network.failFile);
    }
    await assertClean();
    const id = (await c.runtime.runPodSandbox({ config: cfg })).podSandboxId;
    await c.runtime.removePodSandbox({ podSandboxId: id });
  });

  test('the task failing to start undoes the network and the containerd container', async () => {
    await assert.rejects(c.runtime.runPodSandbox({ config: podConfig('badruntime'), runtimeHandler: 'broken' }));
    await assertClean();
  });
});

function httpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host, () => sock.write(`GET / HTTP/1.0\r\nHost: ${host}\r\n\r\n`));
    let body = '';
    sock.setTimeout(5_000, () => sock.destroy(new Error('timeout')));
    sock.on('data', d => { body += d.toString(); });
    sock.on('end', () => resolve(body));
    sock.on('error', reject);
  });
}
