import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cri } from '@crikit/api';
import { errorKind } from '@crikit/core';
import { bandwidthOf } from './pod-ref.js';
import { resolvConf } from './sandbox-files.js';
import { checkSysctls, namesInterface } from './sysctl-policy.js';

const pod = { hostNetwork: false, hostIpc: false, what: 'run pod sandbox default/web' };
const invalid = (pattern: RegExp) => (err: Error) => errorKind(err) === 'invalid-argument' && pattern.test(err.message);

test('namespaced sysctls pass, with / separators normalised', () => {
  assert.deepEqual(checkSysctls({ 'net/ipv4/ip_forward': '1', 'kernel.shmmax': '1024', 'fs.mqueue.msg_max': '20' }, pod),
    { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1024', 'fs.mqueue.msg_max': '20' });
});

test('a sysctl outside the pod\'s namespaces is refused, naming it', () => {
  assert.throws(() => checkSysctls({ 'kernel.panic': '1' }, pod), invalid(/sysctl "kernel\.panic" is not namespaced/));
  assert.throws(() => checkSysctls({ 'net.ipv4.ip_forward': '1' }, { ...pod, hostNetwork: true }), invalid(/not allowed with host network/));
  assert.throws(() => checkSysctls({ 'kernel.sem': '1 2 3 4' }, { ...pod, hostIpc: true }), invalid(/not allowed with host IPC/));
});

test('a sysctl naming an interface is told apart from the all/default ones and from other net sysctls', () => {
  assert.equal(namesInterface({ 'net.ipv4.conf.eth0.arp_ignore': '2' }), true);
  assert.equal(namesInterface({ 'net.ipv6.neigh.eth0.base_reachable_time_ms': '1000' }), true);
  assert.equal(namesInterface({ 'net.ipv4.conf.all.arp_ignore': '2', 'net.ipv4.conf.default.rp_filter': '1' }), false);
  assert.equal(namesInterface({ 'net.ipv4.ip_unprivileged_port_start': '80', 'net.core.somaxconn': '1024' }), false);
});

test('resolv.conf lists searches, servers and options; an empty DNS config means the host\'s', () => {
  const dns = cri.DNSConfig.fromPartial({ servers: ['10.96.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local'], options: ['ndots:5'] });
  assert.equal(resolvConf(dns), 'search default.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
  assert.equal(resolvConf(cri.DNSConfig.fromPartial({})), undefined);
  assert.equal(resolvConf(undefined), undefined);
});

test('bandwidth annotations are read as quantities in bits per second', () => {
  assert.deepEqual(bandwidthOf({ 'kubernetes.io/ingress-bandwidth': '10M', 'kubernetes.io/egress-bandwidth': '1Gi' }),
    { ingressBitsPerSecond: 10_000_000, egressBitsPerSecond: 2 ** 30 });
  assert.equal(bandwidthOf({}), undefined);
  assert.throws(() => bandwidthOf({ 'kubernetes.io/ingress-bandwidth': 'fast' }), invalid(/ingress-bandwidth: "fast" is not a quantity/));
});
