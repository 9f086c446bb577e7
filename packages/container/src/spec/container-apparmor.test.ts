import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cri } from '@crikit/api';
import { FailedPreconditionError } from '@crikit/core';
import { containerAppArmorProfile } from './container-apparmor.js';

const T = cri.SecurityProfile_ProfileType;
const sc = (patch: Partial<cri.LinuxContainerSecurityContext>): cri.LinuxContainerSecurityContext =>
  ({ ...cri.LinuxContainerSecurityContext.fromPartial({}), ...patch });
const on = { hostHasAppArmor: true, defaultProfile: 'crikit-default', privileged: false };

describe('containerAppArmorProfile', () => {
  it('sets nothing on a host without AppArmor, and refuses explicit profiles there', () => {
    const off = { ...on, hostHasAppArmor: false };
    assert.equal(containerAppArmorProfile(undefined, off), undefined);
    assert.equal(containerAppArmorProfile(sc({ apparmor: { profileType: T.Unconfined, localhostRef: '' } }), off), undefined);
    assert.throws(() => containerAppArmorProfile(sc({ apparmor: { profileType: T.RuntimeDefault, localhostRef: '' } }), off), FailedPreconditionError);
    assert.throws(() => containerAppArmorProfile(sc({ apparmorProfile: 'localhost/p' }), off), FailedPreconditionError);
  });
  it('uses the default profile when unset or RuntimeDefault, except when privileged', () => {
    assert.equal(containerAppArmorProfile(undefined, on), 'crikit-default');
    assert.equal(containerAppArmorProfile(sc({ apparmorProfile: 'runtime/default' }), on), 'crikit-default');
    assert.equal(containerAppArmorProfile(undefined, { ...on, privileged: true }), undefined);
    assert.equal(containerAppArmorProfile(undefined, { ...on, defaultProfile: undefined }), undefined);
  });
  it('honours Unconfined and Localhost, the field winning over the deprecated string', () => {
    assert.equal(containerAppArmorProfile(sc({ apparmor: { profileType: T.Unconfined, localhostRef: '' }, apparmorProfile: 'localhost/x' }), on), undefined);
    assert.equal(containerAppArmorProfile(sc({ apparmor: { profileType: T.Localhost, localhostRef: 'k8s-nginx' } }), { ...on, privileged: true }), 'k8s-nginx');
    assert.equal(containerAppArmorProfile(sc({ apparmorProfile: 'localhost/k8s-nginx' }), on), 'k8s-nginx');
  });
});
