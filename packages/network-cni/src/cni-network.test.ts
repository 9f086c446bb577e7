import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { silentLogger } from '@crikit/core';
import { CniNetwork, type CniAttachment, type CniNetworkSpec } from './cni-network.js';
import { CniPluginError } from './cni-plugin-error.js';
import { CniPluginExec } from './cni-plugin-exec.js';
import { networkCniConfigSchema } from './network-cni-config.js';
import { FakeCniBin } from './testing/fake-cni-bin.js';

const signal = (): AbortSignal => AbortSignal.timeout(10_000);
const att: CniAttachment = {
  containerId: 'c1', ifName: 'eth0', netns: '/run/ns/c1', args: 'IgnoreUnknown=1',
  capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], bandwidth: { ingressRate: 1000 }, dns: { servers: ['10.0.0.10'] } },
  doing: 'attach pod "web/default" to cni network "net"',
};
const resultA = { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }], from: 'a' };
const resultB = { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }], from: 'b' };

function net(cniVersion: string, extra: Record<string, unknown> = {}): CniNetworkSpec {
  return {
    name: 'net',
    cniVersion,
    plugins: [
      { type: 'a', bridge: 'x' },
      { type: 'b', capabilities: { portMappings: true, ipRanges: true, bandwidth: false }, runtimeConfig: { stale: true } },
    ],
    raw: extra,
  };
}

describe('CniNetwork', () => {
  let bin: FakeCniBin;
  let network: CniNetwork;

  before(async () => {
    bin = await FakeCniBin.create();
    await bin.plugin('a', { ADD: `echo '${JSON.stringify(resultA)}'` });
    await bin.plugin('b', { ADD: `echo '${JSON.stringify(resultB)}'` });
    await bin.plugin('gone', { DEL: `echo '{"code":3,"msg":"container unknown"}'; exit 1` });
    await bin.plugin('gone2', { DEL: `echo '{"code":999,"msg":"failed to find chain: Chain not found"}'; exit 1` });
    await bin.plugin('broken', { DEL: `echo '{"code":100,"msg":"iptables is locked"}'; exit 1`, GC: `echo '{"code":100,"msg":"gc failed"}'; exit 1` });
    const config = networkCniConfigSchema.parse({ binDirs: [bin.binDir] });
    network = new CniNetwork(new CniPluginExec(config, silentLogger), silentLogger);
  });
  after(() => bin.cleanup());
  beforeEach(() => bin.clearCalls());

  it('ADD runs the plugins in order, chaining prevResult, with name and cniVersion from the list', async () => {
    const result = await network.add(net('1.0.0'), att, signal());
    assert.deepEqual(result, resultB);
    const calls = await bin.calls();
    assert.deepEqual(calls.map(c => `${c.plugin} ${c.command}`), ['a ADD', 'b ADD']);
    assert.deepEqual(calls[0]!.stdin, { type: 'a', bridge: 'x', name: 'net', cniVersion: '1.0.0' });
    assert.deepEqual(calls[1]!.stdin.prevResult, resultA);
    assert.equal(calls[1]!.stdin.name, 'net');
    assert.equal(calls[1]!.args, 'IgnoreUnknown=1');
    assert.equal(calls[1]!.netns, '/run/ns/c1');
  });

  it('gives each plugin as runtimeConfig only the capabilities it declares, replacing the file\'s', async () => {
    await network.add(net('1.0.0'), att, signal());
    const [a, b] = await bin.calls();
    assert.equal(a!.stdin.runtimeConfig, undefined);
    // b declares portMappings (given), ipRanges (not given) and bandwidth: false (given, but not declared).
    assert.deepEqual(b!.stdin.runtimeConfig, { portMappings: att.capabilityArgs.portMappings });
  });

  it('DEL runs the plugins in reverse, each with the cached result as prevResult', async () => {
    await network.del(net('1.0.0'), att, resultB, signal());
    const calls = await bin.calls();
    assert.deepEqual(calls.map(c => `${c.plugin} ${c.command}`), ['b DEL', 'a DEL']);
    for (const c of calls) assert.deepEqual(c.stdin.prevResult, resultB);
    assert.deepEqual(calls[0]!.stdin.runtimeConfig, { portMappings: att.capabilityArgs.portMappings });
  });

  it('DEL sends no prevResult for cniVersion below 0.4.0', async () => {
    await network.del(net('0.3.1'), att, resultB, signal());
    for (const c of await bin.calls()) assert.equal(c.stdin.prevResult, undefined);
  });

  it('DEL takes "not found" answers as success and goes on, but stops at a real failure', async () => {
    const list: CniNetworkSpec = { name: 'net', cniVersion: '1.0.0', plugins: [{ type: 'a' }, { type: 'gone' }, { type: 'gone2' }] };
    await network.del(list, att, undefined, signal());
    assert.deepEqual((await bin.calls()).map(c => c.plugin), ['gone2', 'gone', 'a']);
    await bin.clearCalls();
    const failing: CniNetworkSpec = { name: 'net', cniVersion: '1.0.0', plugins: [{ type: 'a' }, { type: 'broken' }] };
    await assert.rejects(network.del(failing, att, undefined, signal()), CniPluginError);
    assert.deepEqual((await bin.calls()).map(c => c.plugin), ['broken']);
  });

  it('CHECK runs in order with the cached result, only from cniVersion 0.4.0 and unless disableCheck', async () => {
    assert.equal(await network.check(net('1.0.0'), att, resultB, signal()), true);
    const calls = await bin.calls();
    assert.deepEqual(calls.map(c => `${c.plugin} ${c.command}`), ['a CHECK', 'b CHECK']);
    for (const c of calls) assert.deepEqual(c.stdin.prevResult, resultB);
    await bin.clearCalls();
    assert.equal(await network.check(net('0.3.1'), att, resultB, signal()), false);
    assert.equal(await network.check(net('1.0.0', { disableCheck: true }), att, resultB, signal()), false);
    assert.deepEqual(await bin.calls(), []);
  });

  it('STATUS runs each plugin without container args from cniVersion 1.1.0, and is skipped below', async () => {
    assert.equal(await network.status(net('1.0.0'), 'status', signal()), false);
    assert.deepEqual(await bin.calls(), []);
    assert.equal(await network.status(net('1.1.0'), 'status', signal()), true);
    const calls = await bin.calls();
    assert.deepEqual(calls.map(c => `${c.plugin} ${c.command} ${c.containerId}`), ['a STATUS <unset>', 'b STATUS <unset>']);
    assert.deepEqual(calls[1]!.stdin.runtimeConfig, { stale: true }); // no capability args: the file's own stays
    assert.equal(calls[1]!.stdin.prevResult, undefined);
  });

  it('STATUS "plugin not available" (code 50) is unavailable', async () => {
    await bin.plugin('notready', { STATUS: `echo '{"code":50,"msg":"no ipam"}'; exit 1` });
    const list: CniNetworkSpec = { name: 'net', cniVersion: '1.1.0', plugins: [{ type: 'notready' }] };
    await assert.rejects(network.status(list, 'status', signal()), { name: 'UnavailableError' });
  });

  it('GC passes cni.dev/valid-attachments to every plugin, even after one fails; skipped below 1.1.0 or with disableGC', async () => {
    const valid = [{ containerID: 'c1', ifname: 'eth0' }];
    assert.equal(await network.gc(net('1.0.0'), valid, 'gc', signal()), false);
    assert.equal(await network.gc(net('1.1.0', { disableGC: true }), valid, 'gc', signal()), false);
    assert.deepEqual(await bin.calls(), []);
    assert.equal(await network.gc(net('1.1.0'), valid, 'gc', signal()), true);
    const calls = await bin.calls();
    assert.deepEqual(calls.map(c => `${c.plugin} ${c.command}`), ['a GC', 'b GC']);
    assert.deepEqual(calls[0]!.stdin['cni.dev/valid-attachments'], valid);
    await bin.clearCalls();
    const list: CniNetworkSpec = { name: 'net', cniVersion: '1.1.0', plugins: [{ type: 'broken' }, { type: 'a' }] };
    await assert.rejects(network.gc(list, valid, 'gc', signal()), /gc failed/);
    assert.deepEqual((await bin.calls()).map(c => c.plugin), ['broken', 'a']);
  });
});
