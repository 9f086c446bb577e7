// crikit with VethPodNetwork rebound in place of CNI, on real containerd, driven through the CRI
// socket: a pod gets its veth pair and static address (no CNI config, no CNI plugin), and a busybox
// httpd in it answers on that address from the host.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { cri } from '@crikit/api';
import { PodNetwork } from '@crikit/core';
import { createRuntime, type CriRuntime } from '@crikit/server';
import type { LocalRegistry } from '@crikit/testkit';
import { criClient } from './cri-client.js';
import { plainHttpHost, registryWithImages, testDirs } from './test-node.js';
import { VethPodNetwork } from './veth-pod-network.js';

// Network 10.88.97.0/24 and host interfaces ck97v<n> belong to this example.
const network = new VethPodNetwork({ hostAddress: '10.88.97.1', addresses: ['10.88.97.2', '10.88.97.3'], hostInterfacePrefix: 'ck97v' });
const dirs = testDirs();
let registry: LocalRegistry;
let runtime: CriRuntime;
let client: ReturnType<typeof criClient>;

before(async () => {
  registry = await registryWithImages();
  plainHttpHost(dirs.hostsDir, registry.host, registry.url);
  runtime = createRuntime({ config: { ...dirs.config, sandbox: { sandboxImage: `${registry.host}/pause:3.10` } } });
  runtime.container.rebind(PodNetwork).toConstantValue(network);
  await runtime.start(AbortSignal.timeout(60_000));
  client = criClient(runtime.socket);
});

after(async () => {
  client?.close();
  await runtime?.stop(AbortSignal.timeout(20_000));
  await registry?.stop();
  for (const n of [0, 1]) { try { execFileSync('ip', ['link', 'del', `ck97v${n}`], { stdio: 'ignore' }); } catch { /* gone */ } }
  dirs.cleanup();
});

const podConfig = (name: string) => ({
  metadata: { name, namespace: 'example', uid: `uid-${name}-${process.pid}`, attempt: 0 },
  hostname: name,
  logDirectory: path.join(dirs.dir, 'logs', name),
  linux: { securityContext: { namespaceOptions: { network: cri.NamespaceMode.POD, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD } } },
});

/** GET http://<address>:8080/, retried until it answers (the server may still be starting). */
async function httpGet(address: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await new Promise<string>((resolve, reject) => {
        http.get({ host: address, port: 8080, path: '/', timeout: 2_000 }, res => {
          let body = '';
          res.on('data', (c: Buffer) => { body += c.toString(); });
          res.on('end', () => resolve(body));
        }).on('error', reject).on('timeout', function (this: http.ClientRequest) { this.destroy(new Error('timeout')); });
      });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise(resolve => setTimeout(resolve, 200));
    }
  }
}

function hostLinkExists(name: string): boolean {
  try { execFileSync('ip', ['link', 'show', name], { stdio: 'ignore' }); return true; } catch { return false; }
}

test('Status reports the veth backend, not CNI (the CNI conf dir is empty)', async () => {
  const s = await client.status();
  assert.equal(s.status?.conditions.find(c => c.type === 'NetworkReady')?.status, true);
  assert.match(JSON.parse(s.info.network!).message, /^veth pairs/);
});

test('two pods get their own static address and each serves HTTP on it', async () => {
  await client.pull(`${registry.host}/busybox:1`);
  const pods: { id: string; name: string; ip: string }[] = [];
  for (const name of ['web-a', 'web-b']) {
    const config = podConfig(name);
    const { podSandboxId } = await client.runPod(config);
    const status = await client.podStatus(podSandboxId);
    const ip = status.status?.network?.ip ?? '';
    pods.push({ id: podSandboxId, name, ip });
    const { containerId } = await client.createContainer(podSandboxId, config, {
      metadata: { name: 'httpd', attempt: 0 },
      image: { image: `${registry.host}/busybox:1` },
      command: ['/bin/sh', '-c', 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www'],
      logPath: 'httpd.log',
    });
    await client.startContainer(containerId);
  }
  assert.deepEqual(pods.map(p => p.ip), ['10.88.97.2', '10.88.97.3']);
  assert.ok(hostLinkExists('ck97v0') && hostLinkExists('ck97v1'), 'a host end per pod');
  for (const pod of pods) assert.equal((await httpGet(pod.ip)).trim(), `hello from ${pod.name}`);

  // StopPodSandbox detaches: the pair is gone and the address goes back to the pool.
  const [a, b] = pods as [typeof pods[0], typeof pods[0]];
  await client.stopPod(a.id);
  assert.equal(hostLinkExists('ck97v0'), false);
  await client.removePod(a.id);
  const c = podConfig('web-c');
  const { podSandboxId } = await client.runPod(c);
  assert.equal((await client.podStatus(podSandboxId)).status?.network?.ip, '10.88.97.2', 'the freed address is reused');
  for (const id of [b.id, podSandboxId]) {
    await client.stopPod(id);
    await client.removePod(id);
  }
  assert.equal(hostLinkExists('ck97v0') || hostLinkExists('ck97v1'), false);
});
