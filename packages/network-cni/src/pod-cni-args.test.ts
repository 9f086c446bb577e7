import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cri } from '@crikit/api';
import { InvalidArgumentError, type PodRef, type SandboxId } from '@crikit/core';
import { podCniArgs } from './pod-cni-args.js';

const bare: PodRef = {
  id: 'f'.repeat(64) as SandboxId, name: 'web', namespace: 'prod', uid: 'u1', netnsPath: '/run/ns/x',
  labels: {}, annotations: {}, portMappings: [], cgroupParent: '',
};

describe('podCniArgs', () => {
  it('leaves out capabilities with nothing to say', () => {
    const { args, capabilityArgs } = podCniArgs(bare, []);
    assert.equal(args, `IgnoreUnknown=1;K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=${bare.id};K8S_POD_UID=u1`);
    assert.deepEqual(capabilityArgs, { 'io.kubernetes.cri.pod-annotations': {} });
  });

  it('maps egress-only bandwidth, SCTP ports and pod CIDRs', () => {
    const { capabilityArgs } = podCniArgs({
      ...bare, bandwidth: { egressBitsPerSecond: 5_000 },
      portMappings: [{ protocol: cri.Protocol.SCTP, containerPort: 9, hostPort: 19, hostIp: '' }],
    }, ['10.1.0.0/24']);
    assert.deepEqual(capabilityArgs.bandwidth, { egressRate: 5_000, egressBurst: 4_294_967_295 });
    assert.deepEqual(capabilityArgs.portMappings, [{ hostPort: 19, containerPort: 9, protocol: 'sctp' }]);
    assert.deepEqual(capabilityArgs.ipRanges, [[{ subnet: '10.1.0.0/24' }]]);
  });

  it('refuses an unknown protocol or a port out of range, naming the pod', () => {
    const badProtocol = { ...bare, portMappings: [{ protocol: cri.Protocol.UNRECOGNIZED, containerPort: 80, hostPort: 80, hostIp: '' }] };
    assert.throws(() => podCniArgs(badProtocol, []), (err: Error) => err instanceof InvalidArgumentError && /pod "web\/prod"/.test(err.message));
    const badPort = { ...bare, portMappings: [{ protocol: cri.Protocol.TCP, containerPort: 70_000, hostPort: 80, hostIp: '' }] };
    assert.throws(() => podCniArgs(badPort, []), InvalidArgumentError);
  });
});
