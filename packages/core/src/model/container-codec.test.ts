import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cri } from '@crikit/api';
import { InvalidArgumentError } from '../errors.js';
import { containerRecord } from '../testing/record-builders.js';
import { decodeContainerMetadata, decodeContainerStatus, encodeContainerMetadata, encodeContainerStatus } from './container-codec.js';

const richConfig = cri.ContainerConfig.fromPartial({
  metadata: { name: 'app', attempt: 3 },
  image: { image: 'docker.io/library/nginx:1.27', annotations: { a: 'b' } },
  command: ['/bin/sh', '-c'],
  args: ['echo hi'],
  envs: [{ key: 'A', value: Buffer.from('x=y') }],
  mounts: [{ containerPath: '/data', hostPath: '/srv', propagation: cri.MountPropagation.PROPAGATION_BIDIRECTIONAL }],
  labels: { tier: 'front' },
  logPath: 'app/3.log',
  tty: true,
  linux: { resources: { cpuShares: 512n, memoryLimitInBytes: 1n << 40n }, securityContext: { capabilities: { addCapabilities: ['NET_ADMIN'] } } },
  stopSignal: cri.Signal.SIGINT,
});

describe('container metadata codec', () => {
  it('round-trips through JSON text, bytes and bigints included', () => {
    const { metadata } = containerRecord({ metadata: { config: richConfig, createdAt: 1_700_000_000_000_000_001n } });
    const decoded = decodeContainerMetadata(JSON.parse(JSON.stringify(encodeContainerMetadata(metadata))));
    assert.deepEqual(decoded, metadata);
    assert.equal(decoded.config.envs[0]?.value.toString(), 'x=y');
  });

  it('refuses a document from another version or with a missing id', () => {
    const good = encodeContainerMetadata(containerRecord().metadata);
    assert.throws(() => decodeContainerMetadata({ ...good, version: 0 }), InvalidArgumentError);
    assert.throws(() => decodeContainerMetadata({ ...good, id: '' }), InvalidArgumentError);
    assert.throws(() => decodeContainerMetadata(null), InvalidArgumentError);
  });

  it('round-trips a status, with and without resources', () => {
    const exited = containerRecord({ status: { state: 'exited', exitCode: 1, finishedAt: 99n, reason: 'Error', message: 'boom' } }).status;
    assert.deepEqual(decodeContainerStatus(JSON.parse(JSON.stringify(encodeContainerStatus(exited)))), exited);
    const limited = { ...exited, resources: cri.ContainerResources.fromPartial({ linux: { cpuQuota: 50_000n, cpuPeriod: 100_000n } }) };
    assert.deepEqual(decodeContainerStatus(JSON.parse(JSON.stringify(encodeContainerStatus(limited)))), limited);
  });
});
