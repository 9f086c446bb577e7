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
  it('passes the config’s annotations, which cannot override the CRI ones or set systemd properties', () => {
    const out = containerAnnotations(containerConfig({ annotations: {
      'example.com/a': '1', 'io.kubernetes.cri.sandbox-id': 'spoof', 'org.systemd.property.CPUQuota': '1%',
    } }), ctx);
    assert.equal(out['example.com/a'], '1');
    assert.equal(out['io.kubernetes.cri.sandbox-id'], SANDBOX_ID);
    assert.equal('org.systemd.property.CPUQuota' in out, false);
  });
});
