import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cri } from '@crikit/api';
import { InvalidArgumentError } from '@crikit/core';
import { requestedCdiDevices } from './cdi-requests.js';

const config = (patch: Partial<cri.ContainerConfig>): cri.ContainerConfig => ({ ...cri.ContainerConfig.fromPartial({}), ...patch });

test('the CDI_devices field first, then the cdi.k8s.io/ annotations by key, each device once', () => {
  assert.deepEqual(requestedCdiDevices(config({})), []);
  assert.deepEqual(requestedCdiDevices(config({
    CDIDevices: [{ name: 'v.com/c=b' }, { name: 'v.com/c=a' }, { name: 'v.com/c=b' }],
    annotations: { 'cdi.k8s.io/z': 'v.com/c=z', 'cdi.k8s.io/y': 'v.com/c=a,v.com/c=y', 'other/x': 'not-a-device' },
  })), ['v.com/c=b', 'v.com/c=a', 'v.com/c=y', 'v.com/c=z']);
});

test('a name that is not fully qualified is refused, naming where it came from', () => {
  assert.throws(() => requestedCdiDevices(config({ CDIDevices: [{ name: 'v.com/c=a' }, { name: 'gpu0' }] })),
    (e: Error) => e instanceof InvalidArgumentError && e.message.startsWith('CDI_devices[1].name: "gpu0"'));
  assert.throws(() => requestedCdiDevices(config({ annotations: { 'cdi.k8s.io/p': 'v.com/c=a,' } })),
    (e: Error) => e instanceof InvalidArgumentError && e.message.startsWith('annotation cdi.k8s.io/p: ""'));
});
