import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cri } from '@crikit/api';
import { InvalidArgumentError } from '../errors.js';
import { sandboxRecord } from '../testing/record-builders.js';
import { decodeSandboxMetadata, decodeSandboxStatus, encodeSandboxMetadata, encodeSandboxStatus } from './sandbox-codec.js';

/** A config that uses every kind of field the JSON form must carry: maps, enums, int64, nesting. */
const richConfig = cri.PodSandboxConfig.fromPartial({
  metadata: { name: 'web', namespace: 'prod', uid: 'u-1', attempt: 2 },
  hostname: 'web-0',
  logDirectory: '/var/log/pods/prod_web_u-1',
  dnsConfig: { servers: ['10.96.0.10'], searches: ['prod.svc.cluster.local'], options: ['ndots:5'] },
  portMappings: [{ protocol: cri.Protocol.UDP, containerPort: 53, hostPort: 5353, hostIp: '0.0.0.0' }],
  labels: { app: 'web' },
  annotations: { 'kubernetes.io/ingress-bandwidth': '1M' },
  linux: {
    cgroupParent: '/kubepods/pod-u-1',
    sysctls: { 'net.ipv4.ip_forward': '1' },
    securityContext: { runAsUser: { value: 1000n }, supplementalGroups: [5n, 6n], namespaceOptions: { network: cri.NamespaceMode.NODE } },
    resources: { memoryLimitInBytes: 9_007_199_254_740_993n, cpuQuota: -1n },
  },
});

describe('sandbox metadata codec', () => {
  it('round-trips through JSON text, bigints included', () => {
    const { metadata } = sandboxRecord({ metadata: { config: richConfig, runtimeHandler: 'runc', createdAt: 1_700_000_000_123_456_789n } });
    const text = JSON.stringify(encodeSandboxMetadata(metadata));
    assert.match(text, /"createdAt":"1700000000123456789"/);
    assert.match(text, /"memoryLimitInBytes":"9007199254740993"/);
    assert.deepEqual(decodeSandboxMetadata(JSON.parse(text)), metadata);
  });

  it('keeps an absent netnsPath absent (host network)', () => {
    const { netnsPath: _unused, ...hostNetwork } = sandboxRecord().metadata;
    const decoded = decodeSandboxMetadata(JSON.parse(JSON.stringify(encodeSandboxMetadata(hostNetwork))));
    assert.equal('netnsPath' in decoded, false);
  });

  it('refuses another version, a missing field, a bad bigint and a config without metadata', () => {
    const good = encodeSandboxMetadata(sandboxRecord().metadata);
    for (const bad of [
      { ...good, version: 2 },
      { ...good, name: undefined },
      { ...good, createdAt: '12x' },
      { ...good, config: { hostname: 'h' } },
      { ...good, config: { metadata: { name: 'x' }, linux: { resources: { cpuQuota: 'lots' } } } },
      'not an object',
    ]) {
      assert.throws(() => decodeSandboxMetadata(bad), InvalidArgumentError, JSON.stringify(bad));
    }
  });

  it('round-trips a status', () => {
    const status = sandboxRecord({ status: { state: 'notready', ip: '10.0.0.2', additionalIps: ['fd00::2'], exitStatus: 137, exitedAt: 42n } }).status;
    assert.deepEqual(decodeSandboxStatus(JSON.parse(JSON.stringify(encodeSandboxStatus(status)))), status);
    assert.throws(() => decodeSandboxStatus({ ...encodeSandboxStatus(status), state: 'running' }), InvalidArgumentError);
  });
});
