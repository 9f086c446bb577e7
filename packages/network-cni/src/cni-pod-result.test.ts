import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toPodNetworkResult } from './cni-pod-result.js';

describe('toPodNetworkResult', () => {
  it('takes the IPs on the pod interface, the first IPv4 first, without prefix length', () => {
    const result = {
      cniVersion: '1.0.0',
      interfaces: [{ name: 'cni0', mac: 'aa' }, { name: 'eth0', mac: 'bb', sandbox: '/run/ns/x' }, { name: 'net1', sandbox: '/run/ns/x' }],
      ips: [
        { interface: 1, address: 'fd00::5/64' }, { interface: 0, address: '10.0.0.1/24' },
        { interface: 1, address: '10.88.0.5/24' }, { interface: 2, address: '192.168.0.5/24' },
      ],
    };
    const r = toPodNetworkResult(result, 'eth0');
    assert.deepEqual(r.ips, ['10.88.0.5', 'fd00::5']);
    assert.deepEqual(r.interfaces, [
      { name: 'cni0', mac: 'aa', sandbox: '' }, { name: 'eth0', mac: 'bb', sandbox: '/run/ns/x' }, { name: 'net1', mac: '', sandbox: '/run/ns/x' },
    ]);
    assert.equal(r.raw, result);
  });

  it('takes every IP when the result does not say which interface holds it, and reads 0.2.0 results', () => {
    assert.deepEqual(toPodNetworkResult({ ips: [{ address: '10.0.0.2/24' }, { address: '10.0.0.3/24' }] }, 'eth0').ips, ['10.0.0.2', '10.0.0.3']);
    assert.deepEqual(toPodNetworkResult({ cniVersion: '0.2.0', ip6: { ip: 'fd00::2/64' }, ip4: { ip: '10.1.0.2/16' } }, 'eth0').ips, ['10.1.0.2', 'fd00::2']);
    assert.deepEqual(toPodNetworkResult(undefined, 'eth0'), { ips: [], interfaces: [], raw: undefined });
  });
});
