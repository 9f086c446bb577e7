import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { cri } from '@crikit/api';
import { FailedPreconditionError, InvalidArgumentError, silentLogger, UnavailableError, type PodRef, type SandboxId } from '@crikit/core';
import { CniConfTemplateWriter } from './cni-conf-template-writer.js';
import { CniConfigWatcher } from './cni-config-watcher.js';
import { CniNetwork } from './cni-network.js';
import { CniPluginError } from './cni-plugin-error.js';
import { CniPluginExec } from './cni-plugin-exec.js';
import { CniPodNetwork } from './cni-pod-network.js';
import { CniResultCache } from './cni-result-cache.js';
import { networkCniConfigSchema } from './network-cni-config.js';
import { FakeCniBin, type FakeCniCall } from './testing/fake-cni-bin.js';
import { FakeNetworkNamespaces } from '@crikit/core/testing';

const signal = (): AbortSignal => AbortSignal.timeout(10_000);
// The result lists the IPv6 address first: attach must still put IPv4 first.
const resultScript = `printf '{"cniVersion":"1.0.0","interfaces":[{"name":"br0","mac":"0a:00:00:00:00:01"},{"name":"eth0","mac":"0a:00:00:00:00:02","sandbox":"%s"}],"ips":[{"interface":1,"address":"fd00::2/64"},{"interface":1,"address":"10.88.0.2/24"}]}' "$CNI_NETNS"`;
const allCaps = { portMappings: true, bandwidth: true, ipRanges: true, dns: true, cgroupPath: true, 'io.kubernetes.cri.pod-annotations': true };
/** The loopback plugin's calls and the default network's, each in order: the two networks are set up at once. */
const byNetwork = (calls: readonly FakeCniCall[], show: (c: FakeCniCall) => string) =>
  ({ lo: calls.filter(c => c.plugin === 'loopback').map(show), net: calls.filter(c => c.plugin !== 'loopback').map(show) });
const testnet = { cniVersion: '1.0.0', name: 'testnet', plugins: [{ type: 'fakebr', bridge: 'br0' }, { type: 'fakepm', capabilities: allCaps }] };

function pod(n: number, netns: FakeNetworkNamespaces): PodRef {
  const netnsPath = `${netns.dir}/pod${n}`;
  netns.adopt(netnsPath);
  return {
    id: String(n).repeat(64) as SandboxId, name: `web${n}`, namespace: 'default', uid: `uid-${n}`, netnsPath,
    labels: {}, annotations: { team: 'a' },
    portMappings: [
      { protocol: cri.Protocol.TCP, containerPort: 80, hostPort: 8080, hostIp: '' },
      { protocol: cri.Protocol.UDP, containerPort: 53, hostPort: 5353, hostIp: '127.0.0.1' },
      { protocol: cri.Protocol.TCP, containerPort: 9000, hostPort: 0, hostIp: '' },
    ],
    dns: { servers: ['10.96.0.10'], searches: ['svc.cluster.local'], options: ['ndots:5'] },
    cgroupParent: '/kubepods/pod1',
    bandwidth: { ingressBitsPerSecond: 1_000_000 },
  };
}

describe('CniPodNetwork', () => {
  let bin: FakeCniBin;
  let confDir: string;
  let netns: FakeNetworkNamespaces;

  /** A fresh set of services over the same dirs, as after a crikit restart. */
  async function start(extra: Record<string, unknown> = {}): Promise<{ net: CniPodNetwork; cache: CniResultCache; watcher: CniConfigWatcher }> {
    const config = networkCniConfigSchema.parse({ confDir, binDirs: [bin.binDir], ...extra });
    const paths = { rootDir: path.join(bin.root, 'root'), stateDir: path.join(bin.root, 'state') };
    const watcher = new CniConfigWatcher(config, silentLogger);
    await watcher.rescan();
    const cache = new CniResultCache(paths, silentLogger);
    const network = new CniNetwork(new CniPluginExec(config, silentLogger), silentLogger);
    const writer = new CniConfTemplateWriter(config, watcher, silentLogger);
    return { net: new CniPodNetwork(config, watcher, network, cache, netns, writer, silentLogger), cache, watcher };
  }
  const writeConf = (name: string, conf: unknown): Promise<void> => fs.writeFile(path.join(confDir, name), JSON.stringify(conf));

  beforeEach(async () => {
    bin = await FakeCniBin.create();
    confDir = path.join(bin.root, 'net.d');
    await fs.mkdir(confDir);
    netns = new FakeNetworkNamespaces(path.join(bin.root, 'netns'));
    await bin.plugin('loopback', { ADD: `echo '{"cniVersion":"0.3.1","interfaces":[{"name":"lo","sandbox":"'$CNI_NETNS'"}],"ips":[{"interface":0,"address":"127.0.0.1/8"}]}'` });
    await bin.plugin('fakebr', { ADD: resultScript });
    await bin.plugin('fakepm', { ADD: resultScript });
    await writeConf('10-test.conflist', testnet);
  });
  afterEach(() => bin.cleanup());

  it('attaches with CNI ADD on the default network: CNI_ARGS, capability args, eth0, IPv4 first', async () => {
    const { net } = await start();
    const p = pod(1, netns);
    const result = await net.attach(p, signal());
    assert.deepEqual(result.ips, ['10.88.0.2', 'fd00::2']);
    assert.deepEqual(result.interfaces.map(i => `${i.name} ${i.sandbox}`), ['br0 ', `eth0 ${p.netnsPath}`]);
    const all = await bin.calls();
    assert.deepEqual(byNetwork(all, c => `${c.plugin} ${c.command} ${c.ifName}`), { lo: ['loopback ADD lo'], net: ['fakebr ADD eth0', 'fakepm ADD eth0'] });
    assert.deepEqual(all.find(c => c.plugin === 'loopback')!.stdin, { type: 'loopback', name: 'cni-loopback', cniVersion: '0.3.1' });
    const calls = all.filter(c => c.plugin !== 'loopback');
    assert.equal(calls[0]!.args, `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web1;K8S_POD_INFRA_CONTAINER_ID=${p.id};K8S_POD_UID=uid-1`);
    assert.equal(calls[0]!.containerId, p.id);
    assert.equal(calls[0]!.netns, p.netnsPath);
    assert.equal(calls[0]!.stdin.runtimeConfig, undefined);
    assert.deepEqual(calls[1]!.stdin.runtimeConfig, {
      portMappings: [
        { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
      ],
      bandwidth: { ingressRate: 1_000_000, ingressBurst: 4_294_967_295 },
      dns: { servers: ['10.96.0.10'], searches: ['svc.cluster.local'], options: ['ndots:5'] },
      cgroupPath: '/kubepods/pod1',
      'io.kubernetes.cri.pod-annotations': { team: 'a' },
    });
  });

  it('is idempotent: a second attach, even a concurrent one, gets the cached result without running plugins', async () => {
    const { net } = await start();
    const p = pod(1, netns);
    const [a, b] = await Promise.all([net.attach(p, signal()), net.attach(p, signal())]);
    assert.deepEqual(a, b);
    assert.deepEqual(await net.attach(p, signal()), a);
    assert.equal((await bin.calls()).filter(c => c.command === 'ADD').length, 3);
  });

  it('refuses to attach while no network is loaded', async () => {
    await fs.rm(path.join(confDir, '10-test.conflist'));
    const { net } = await start();
    assert.equal(net.status().ready, false);
    await assert.rejects(net.attach(pod(1, netns), signal()), (err: Error) => {
      assert.ok(err instanceof UnavailableError);
      assert.match(err.message, /^attach pod "web1\/default": cni network not ready: cni config not found in /);
      return true;
    });
  });

  it('undoes a failed ADD with DEL and caches nothing', async () => {
    await bin.plugin('fakefail', { ADD: `echo '{"code":7,"msg":"bad config"}'; exit 1` });
    await writeConf('10-test.conflist', { ...testnet, plugins: [{ type: 'fakebr' }, { type: 'fakefail' }] });
    const { net, cache } = await start();
    const p = pod(1, netns);
    await assert.rejects(net.attach(p, signal()), (err: Error) => {
      assert.ok(err instanceof CniPluginError);
      assert.equal(err.message, 'attach pod "web1/default" to cni network "testnet": plugin "fakefail" ADD: bad config (code 7)');
      return true;
    });
    assert.deepEqual(byNetwork(await bin.calls(), c => `${c.plugin} ${c.command}`),
      { lo: ['loopback ADD', 'loopback DEL'], net: ['fakebr ADD', 'fakefail ADD', 'fakefail DEL', 'fakebr DEL'] });
    assert.deepEqual(await cache.list(), []);
  });

  it('detaches after a restart with the config and result of the ADD, though the conf dir changed', async () => {
    const first = await start();
    const p = pod(1, netns);
    const attached = await first.net.attach(p, signal());
    await bin.plugin('other');
    await fs.rm(path.join(confDir, '10-test.conflist'));
    await writeConf('20-other.conflist', { cniVersion: '1.0.0', name: 'othernet', plugins: [{ type: 'other' }] });
    await bin.clearCalls();

    const second = await start();
    await second.net.detach(p, signal());
    const all = await bin.calls();
    assert.deepEqual(byNetwork(all, c => `${c.plugin} ${c.command} ${c.stdin.name}`), { lo: ['loopback DEL cni-loopback'], net: ['fakepm DEL testnet', 'fakebr DEL testnet'] });
    const calls = all.filter(c => c.plugin !== 'loopback');
    for (const c of calls) {
      assert.equal(c.stdin.name, 'testnet');
      assert.deepEqual(c.stdin.prevResult, attached.raw);
      assert.equal(c.netns, p.netnsPath);
    }
    assert.deepEqual((calls[0]!.stdin.runtimeConfig as Record<string, unknown>).cgroupPath, '/kubepods/pod1');
    assert.deepEqual(await second.cache.list(), []);

    // Idempotent: without a cache entry, DEL runs on the current network.
    await bin.clearCalls();
    await second.net.detach(p, signal());
    assert.deepEqual((await bin.calls()).map(c => `${c.plugin} ${c.command} ${c.stdin.name}`), ['other DEL othernet']);
  });

  it('detaches with an empty CNI_NETNS when the netns is gone, and resolves when there is nothing to detach', async () => {
    const { net } = await start();
    const p = pod(1, netns);
    await net.attach(p, signal());
    netns.forget(p.netnsPath);
    await bin.clearCalls();
    await net.detach(p, signal());
    assert.deepEqual(byNetwork(await bin.calls(), c => `${c.plugin} ${c.command} "${c.netns}"`), { lo: ['loopback DEL ""'], net: ['fakepm DEL ""', 'fakebr DEL ""'] });

    await fs.rm(path.join(confDir, '10-test.conflist'));
    const none = await start();
    await bin.clearCalls();
    await none.net.detach(p, signal());
    assert.deepEqual(await bin.calls(), []);
  });

  it('keeps the cache entry when DEL fails, so the next detach retries', async () => {
    const { net, cache } = await start();
    const p = pod(1, netns);
    await net.attach(p, signal());
    await bin.plugin('fakepm', { DEL: `echo '{"code":11,"msg":"xtables lock"}'; exit 1` });
    await assert.rejects(net.detach(p, signal()), UnavailableError);
    assert.equal((await cache.find(p.id, 'eth0')).length, 1);
    await bin.plugin('fakepm');
    await net.detach(p, signal());
    assert.equal((await cache.find(p.id, 'eth0')).length, 0);
  });

  it('checks with CNI CHECK and the cached result; not attached or netns gone is a failed precondition', async () => {
    const { net } = await start();
    const p = pod(1, netns);
    await assert.rejects(net.check(p, signal()), (err: Error) => err instanceof FailedPreconditionError && /pod is not attached$/.test(err.message));
    const attached = await net.attach(p, signal());
    await bin.clearCalls();
    await net.check(p, signal());
    const calls = await bin.calls();
    assert.deepEqual(calls.map(c => `${c.plugin} ${c.command}`), ['fakebr CHECK', 'fakepm CHECK']);
    assert.deepEqual(calls[1]!.stdin.prevResult, attached.raw);
    netns.forget(p.netnsPath);
    await assert.rejects(net.check(p, signal()), FailedPreconditionError);
  });

  it('validates the pod CIDR and offers it to plugins as ipRanges', async () => {
    const { net } = await start();
    for (const bad of ['', 'x', '10.0.0.0', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/24,']) {
      await assert.rejects(net.updatePodCidr(bad, signal()), InvalidArgumentError, bad);
    }
    await net.updatePodCidr('10.88.5.0/24,fd00:5::/64', signal());
    await net.attach(pod(1, netns), signal());
    const calls = (await bin.calls()).filter(c => c.plugin === 'fakepm');
    assert.deepEqual((calls[0]!.stdin.runtimeConfig as Record<string, unknown>).ipRanges, [[{ subnet: '10.88.5.0/24' }], [{ subnet: 'fd00:5::/64' }]]);
  });

  it('renders confTemplate into 10-crikit-net.conflist and rescans; leaves a foreign config alone', async () => {
    await fs.rm(path.join(confDir, '10-test.conflist'));
    const template = path.join(bin.root, 'template.json');
    await fs.writeFile(template, `{"cniVersion":"1.0.0","name":"tmpl","plugins":[{"type":"fakebr","subnet":"{{.PodCIDR}}",
      "ranges":[{{- range $i, $r := .PodCIDRRanges}}{{if $i}},{{end}}[{"subnet":"{{$r}}"}]{{- end}}],
      "routes":[{{range $i, $r := .Routes}}{{if $i}},{{end}}{"dst":"{{$r}}"}{{end}}]}]}`);
    const { net, watcher } = await start({ confTemplate: template });
    assert.equal(net.status().ready, false);
    await net.updatePodCidr('10.88.7.0/24,fd00:7::/64', signal());
    assert.equal(net.status().ready, true);
    assert.equal(watcher.defaultNetwork?.file, path.join(confDir, '10-crikit-net.conflist'));
    assert.deepEqual(watcher.defaultNetwork?.plugins[0], {
      type: 'fakebr', subnet: '10.88.7.0/24',
      ranges: [[{ subnet: '10.88.7.0/24' }], [{ subnet: 'fd00:7::/64' }]],
      routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }],
    });
    await net.updatePodCidr('10.88.8.0/24', signal());
    assert.equal(watcher.defaultNetwork?.plugins[0]?.subnet, '10.88.8.0/24');

    await fs.rm(path.join(confDir, '10-crikit-net.conflist'));
    await writeConf('05-daemonset.conflist', testnet);
    await watcher.rescan();
    await net.updatePodCidr('10.88.9.0/24', signal());
    assert.deepEqual(await fs.readdir(confDir), ['05-daemonset.conflist']);
  });

  it('collects garbage: DEL of cached attachments whose pods are gone, keeping the others', async () => {
    const { net, cache } = await start();
    const keep = pod(1, netns);
    const gone = pod(2, netns);
    await net.attach(keep, signal());
    await net.attach(gone, signal());
    await bin.clearCalls();
    await net.collectGarbage([keep.id], signal());
    assert.deepEqual((await bin.calls()).map(c => `${c.plugin} ${c.command} ${c.containerId.slice(0, 1)}`), ['fakepm DEL 2', 'fakebr DEL 2', 'loopback DEL 2']);
    assert.deepEqual((await cache.list()).map(e => `${e.containerId} ${e.ifName}`), [`${keep.id} lo`, `${keep.id} eth0`]);
  });

  it('records the intent before ADD, so a crikit killed mid-ADD is cleaned up by the next one\'s garbage collection', async () => {
    // fakepm hangs after fakebr took its "IP": the ADD is still running when a new crikit starts.
    await bin.plugin('fakepm', { ADD: 'sleep 30' });
    const first = await start();
    const p = pod(3, netns);
    const cut = new AbortController();
    const attaching = first.net.attach(p, cut.signal).catch(() => undefined);
    for (let i = 0; i < 100 && !(await bin.calls()).some(c => c.plugin === 'fakepm'); i++) await new Promise(r => setTimeout(r, 50));
    const { net, cache } = await start();
    const intent = (await cache.find(p.id, 'eth0'))[0];
    assert.ok(intent, 'the eth0 attachment is in the cache while its ADD runs');
    assert.equal(intent.result, undefined, 'without a result: only the intent');
    await assert.rejects(net.check(p, signal()), FailedPreconditionError, 'an intent is not an attachment');
    await bin.clearCalls();
    await net.collectGarbage([], signal());
    const dels = (await bin.calls()).filter(c => c.command === 'DEL');
    assert.deepEqual(byNetwork(dels, c => `${c.plugin} ${c.ifName}`), { lo: ['loopback lo'], net: ['fakepm eth0', 'fakebr eth0'] });
    assert.equal((dels.find(c => c.plugin === 'fakebr')!.stdin as { prevResult?: unknown }).prevResult, undefined, 'no result to pass on');
    assert.deepEqual(await cache.list(), []);
    cut.abort();
    await attaching;
  });
});
