import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerAnnotations } from './container-annotations.js';
import { containerConfig, SANDBOX_ID, sandboxConfig } from './container-spec-fixtures.js';

describe('containerAnnotations', () => {
  const ctx = { sandboxId: SANDBOX_ID, sandboxConfig: sandboxConfig(), imageName: 'docker.io/library/busybox:latest' };
  it('writes the CRI annotations', () => {
    assert.deepEqual(containerAnnotations(containerConfig(), ctx), {
      'io.kubernetes.cri.container-type': 'container',
      'io.kubernetes.cri.sandbox-id': SANDBOX_ID,
      'io.kubernetes.cri.sandbox-name': 'web',
      'io.kubernetes.cri.sandbox-namespace': 'default',
      'io.kubernetes.cri.sandbox-uid': 'uid-1',
      'io.kubernetes.cri.container-name': 'app',
      'io.kubernetes.cri.image-name': 'docker.io/library/busybox:latest',
    });
  });
  it('passes no pod or container annotation unless the runtime handler allows it', () => {
    const out = containerAnnotations(containerConfig({ annotations: { 'example.com/a': '1' } }),
      { ...ctx, sandboxConfig: Object.assign(sandboxConfig(), { annotations: { 'example.com/p': '2' } }) });
    assert.deepEqual(Object.keys(out).filter(k => !k.startsWith('io.kubernetes.cri.')), []);
  });
  it('passes the allowed annotations, which cannot override the CRI ones or set systemd properties', () => {
    const out = containerAnnotations(containerConfig({ annotations: {
      'example.com/a': '1', 'example.com/b': 'x', 'io.kubernetes.cri.sandbox-id': 'spoof', 'org.systemd.property.CPUQuota': '1%',
    } }), {
      ...ctx, sandboxConfig: Object.assign(sandboxConfig(), { annotations: { 'pod.example/p': '2', 'pod.example/q': '3' } }),
      podAnnotationPatterns: ['pod.example/p'], containerAnnotationPatterns: ['example.com/[a]', 'io.kubernetes.cri.*', 'org.systemd.*'],
    });
    assert.equal(out['example.com/a'], '1');
    assert.equal('example.com/b' in out, false);
    assert.equal(out['pod.example/p'], '2');
    assert.equal('pod.example/q' in out, false);
    assert.equal(out['io.kubernetes.cri.sandbox-id'], SANDBOX_ID);
    assert.equal('org.systemd.property.CPUQuota' in out, false);
  });
});
