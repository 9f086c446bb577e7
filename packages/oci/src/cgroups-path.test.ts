import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupsPathFor } from './cgroups-path.js';

describe('cgroupsPathFor', () => {
  it('joins parent and id for cgroupfs', () => {
    assert.equal(cgroupsPathFor('/kubepods/burstable/pod123', 'abc', 'cgroupfs'), '/kubepods/burstable/pod123/abc');
  });
  it('writes slice:cri-containerd:id for systemd', () => {
    assert.equal(cgroupsPathFor('/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice', 'abc', 'systemd'),
      'kubepods-burstable-pod1.slice:cri-containerd:abc');
  });
  it('falls back to the path form when a systemd parent is not a slice', () => {
    assert.equal(cgroupsPathFor('/custom', 'abc', 'systemd'), '/custom/abc');
  });
  it('uses containerd’s default without a parent', () => {
    assert.equal(cgroupsPathFor('', 'abc', 'cgroupfs'), '/k8s.io/abc');
    assert.equal(cgroupsPathFor('', 'abc', 'cgroupfs', 'crikit'), '/crikit/abc');
    assert.equal(cgroupsPathFor('', 'abc', 'systemd'), undefined);
  });
});
