import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cri } from '@crikit/api';
import { FailedPreconditionError, InvalidArgumentError } from '@crikit/core';
import { localhostProfilePath, profileChoice, profileFromPath, resolveSeccomp, type SeccompContext } from './security-profile.js';

const T = cri.SecurityProfile_ProfileType;

describe('profileFromPath', () => {
  it('reads the deprecated strings', () => {
    assert.equal(profileFromPath(''), undefined);
    assert.deepEqual(profileFromPath('runtime/default'), { type: 'runtime-default' });
    assert.deepEqual(profileFromPath('docker/default'), { type: 'runtime-default' });
    assert.deepEqual(profileFromPath('unconfined'), { type: 'unconfined' });
    assert.deepEqual(profileFromPath('localhost//var/lib/kubelet/seccomp/p.json'), { type: 'localhost', ref: '/var/lib/kubelet/seccomp/p.json' });
    assert.throws(() => profileFromPath('other'), InvalidArgumentError);
    assert.throws(() => profileFromPath('localhost/'), InvalidArgumentError);
  });
});

describe('profileChoice', () => {
  it('prefers the SecurityProfile field over the path', () => {
    assert.deepEqual(profileChoice({ profileType: T.Unconfined, localhostRef: '' }, 'runtime/default'), { type: 'unconfined' });
    assert.deepEqual(profileChoice(undefined, 'runtime/default'), { type: 'runtime-default' });
    assert.deepEqual(profileChoice({ profileType: T.RuntimeDefault, localhostRef: '' }, ''), { type: 'runtime-default' });
  });
  it('reads Localhost refs, trimming a stray prefix', () => {
    assert.deepEqual(profileChoice({ profileType: T.Localhost, localhostRef: '/p.json' }, ''), { type: 'localhost', ref: '/p.json' });
    assert.deepEqual(profileChoice({ profileType: T.Localhost, localhostRef: 'localhost/p.json' }, ''), { type: 'localhost', ref: 'p.json' });
  });
  it('refuses inconsistent profiles', () => {
    assert.throws(() => profileChoice({ profileType: T.RuntimeDefault, localhostRef: '/p' }, ''), InvalidArgumentError);
    assert.throws(() => profileChoice({ profileType: T.Localhost, localhostRef: '' }, ''), InvalidArgumentError);
    assert.throws(() => profileChoice({ profileType: T.UNRECOGNIZED, localhostRef: '' }, ''), InvalidArgumentError);
  });
});

describe('localhostProfilePath', () => {
  it('keeps absolute refs and roots relative ones', () => {
    assert.equal(localhostProfilePath('/a/../b/p.json'), '/b/p.json');
    assert.equal(localhostProfilePath('p.json', '/var/lib/kubelet/seccomp'), '/var/lib/kubelet/seccomp/p.json');
    assert.throws(() => localhostProfilePath('p.json'), InvalidArgumentError);
    assert.throws(() => localhostProfilePath('../../etc/p.json', '/var/lib/kubelet/seccomp'), InvalidArgumentError);
  });
});

describe('resolveSeccomp', () => {
  const ctx: SeccompContext = { privileged: false, capabilities: [], whenUnset: 'unconfined', arch: 'amd64' };
  it('is none for privileged processes and Unconfined', () => {
    assert.equal(resolveSeccomp({ type: 'runtime-default' }, { ...ctx, privileged: true }), undefined);
    assert.equal(resolveSeccomp({ type: 'unconfined' }, ctx), undefined);
  });
  it('applies the unset default', () => {
    assert.equal(resolveSeccomp(undefined, ctx), undefined);
    assert.equal(resolveSeccomp(undefined, { ...ctx, whenUnset: 'runtime-default' })?.defaultAction, 'SCMP_ACT_ERRNO');
  });
  it('resolves RuntimeDefault against the capabilities', () => {
    const names = (caps: string[]) => resolveSeccomp({ type: 'runtime-default' }, { ...ctx, capabilities: caps })?.syscalls?.flatMap(s => s.names) ?? [];
    assert.ok(!names([]).includes('mount'));
    assert.ok(names(['CAP_SYS_ADMIN']).includes('mount'));
  });
  it('returns a copy of the loaded Localhost profile, or fails when none was loaded', () => {
    const loaded = { defaultAction: 'SCMP_ACT_LOG' as const };
    const got = resolveSeccomp({ type: 'localhost', ref: '/p' }, { ...ctx, localhostProfile: loaded });
    assert.deepEqual(got, loaded);
    assert.notEqual(got, loaded);
    assert.throws(() => resolveSeccomp({ type: 'localhost', ref: '/p' }, ctx), FailedPreconditionError);
  });
});
