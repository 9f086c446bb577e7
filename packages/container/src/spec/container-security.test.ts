import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cri } from '@crikit/api';
import { FailedPreconditionError, InvalidArgumentError } from '@crikit/core';
import { DEFAULT_CAPABILITIES, LINUX_CAPABILITIES } from '@crikit/oci';
import { containerSeccompProfilePath, containerSecurity, type SecurityContext } from './container-security.js';
import { containerConfig, sandboxConfig, specOptions } from './container-spec-fixtures.js';

const T = cri.SecurityProfile_ProfileType;
const ctx = (patch: Partial<SecurityContext> = {}): SecurityContext => ({ sandboxConfig: sandboxConfig(), options: specOptions(), ...patch });
const caps = (add: string[], drop: string[]) => ({ capabilities: { addCapabilities: add, dropCapabilities: drop, addAmbientCapabilities: [] } });

describe('containerSecurity', () => {
  it('gives the default capabilities, no ambient ones, and no extra privileges', () => {
    const s = containerSecurity(containerConfig(), ctx());
    assert.deepEqual(s.capabilities, { bounding: [...DEFAULT_CAPABILITIES], effective: [...DEFAULT_CAPABILITIES], permitted: [...DEFAULT_CAPABILITIES] });
    assert.equal(s.privileged, false);
    assert.equal(s.noNewPrivileges, false);
    assert.equal(s.readonlyRootfs, false);
  });
  it('applies add/drop with ALL', () => {
    assert.deepEqual(containerSecurity(containerConfig({}, caps(['NET_BIND_SERVICE'], ['ALL'])), ctx()).capabilities.bounding, ['CAP_NET_BIND_SERVICE']);
    const all = containerSecurity(containerConfig({}, caps(['ALL'], ['SYS_ADMIN'])), ctx()).capabilities.bounding ?? [];
    assert.equal(all.length, LINUX_CAPABILITIES.length - 1);
    assert.ok(!all.includes('CAP_SYS_ADMIN'));
    assert.deepEqual(containerSecurity(containerConfig({}, caps(['ALL'], [])), ctx({ options: specOptions({ hostCapabilities: ['CAP_KILL'] }) })).capabilities.bounding, ['CAP_KILL']);
  });
  it('refuses a capability the runtime does not hold, naming the container, the capability and the field', () => {
    const reduced = ctx({ options: specOptions({ hostCapabilities: LINUX_CAPABILITIES.filter(c => c !== 'CAP_SYS_RESOURCE') }) });
    assert.throws(() => containerSecurity(containerConfig({}, caps(['SYS_RESOURCE'], [])), reduced),
      (e: Error) => e instanceof InvalidArgumentError && /container "app": .*add_capabilities: CAP_SYS_RESOURCE/.test(e.message));
    const all = containerSecurity(containerConfig({}, caps(['ALL'], ['CHOWN'])), reduced).capabilities;
    assert.equal(all.effective?.length, LINUX_CAPABILITIES.length - 2);
    assert.ok(!all.effective?.includes('CAP_SYS_RESOURCE') && !all.effective?.includes('CAP_CHOWN'));
  });
  it('sets no_new_privs and read-only rootfs as asked', () => {
    const s = containerSecurity(containerConfig({}, { noNewPrivs: true, readonlyRootfs: true }), ctx());
    assert.equal(s.noNewPrivileges, true);
    assert.equal(s.readonlyRootfs, true);
  });
  it('uses the kubelet’s masked and read-only paths, none when it sends none', () => {
    const s = containerSecurity(containerConfig({}, { maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'] }), ctx());
    assert.deepEqual(s.maskedPaths, ['/proc/kcore']);
    assert.deepEqual(s.readonlyPaths, ['/proc/sys']);
    const none = containerSecurity(containerConfig(), ctx());
    assert.equal(none.maskedPaths, undefined);
    assert.equal(none.readonlyPaths, undefined);
  });
  it('makes privileged containers all-capable, unmasked and unconfined, only in privileged sandboxes', () => {
    const cfg = containerConfig({}, { privileged: true, maskedPaths: ['/proc/kcore'], seccomp: { profileType: T.RuntimeDefault, localhostRef: '' }, ...caps([], ['ALL']) });
    const s = containerSecurity(cfg, ctx({ sandboxConfig: sandboxConfig({ privileged: true }) }));
    assert.equal(s.capabilities.bounding?.length, LINUX_CAPABILITIES.length);
    const held = ['CAP_CHOWN', 'CAP_SYS_ADMIN'];
    const reduced = containerSecurity(cfg, ctx({ sandboxConfig: sandboxConfig({ privileged: true }), options: specOptions({ hostCapabilities: held }) }));
    assert.deepEqual(reduced.capabilities, { bounding: held, effective: held, permitted: held });
    // A Localhost profile is ignored too: nothing is loaded, and the spec has no seccomp.
    const local = containerConfig({}, { privileged: true, seccomp: { profileType: T.Localhost, localhostRef: '/blocks-sethostname.json' } });
    assert.equal(containerSecurity(local, ctx({ sandboxConfig: sandboxConfig({ privileged: true }) })).seccomp, undefined);
    assert.equal(s.maskedPaths, undefined);
    assert.equal(s.seccomp, undefined);
    assert.throws(() => containerSecurity(cfg, ctx()), InvalidArgumentError);
  });
  it('picks the seccomp profile: field, deprecated path, then the node default', () => {
    const rd = { seccomp: { profileType: T.RuntimeDefault, localhostRef: '' } };
    assert.equal(containerSecurity(containerConfig({}, rd), ctx()).seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(containerSecurity(containerConfig({}, { seccompProfilePath: 'runtime/default' }), ctx()).seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(containerSecurity(containerConfig({}, { seccomp: { profileType: T.Unconfined, localhostRef: '' } }), ctx({ options: specOptions({ runtimeDefaultSeccomp: true }) })).seccomp, undefined);
    assert.equal(containerSecurity(containerConfig(), ctx()).seccomp, undefined);
    assert.ok(containerSecurity(containerConfig(), ctx({ options: specOptions({ runtimeDefaultSeccomp: true }) })).seccomp);
  });
  it('resolves RuntimeDefault against the final capabilities', () => {
    const names = (add: string[]) => containerSecurity(containerConfig({}, { seccomp: { profileType: T.RuntimeDefault, localhostRef: '' }, ...caps(add, []) }), ctx())
      .seccomp?.syscalls?.filter(s => !s.args).flatMap(s => s.names) ?? [];
    assert.ok(!names([]).includes('mount'));
    assert.ok(names(['SYS_ADMIN']).includes('mount'));
  });
  it('uses the loaded Localhost profile and fails without one', () => {
    const local = containerConfig({}, { seccomp: { profileType: T.Localhost, localhostRef: '/p.json' } });
    assert.deepEqual(containerSecurity(local, ctx({ localhostSeccomp: { defaultAction: 'SCMP_ACT_LOG' } })).seccomp, { defaultAction: 'SCMP_ACT_LOG' });
    assert.throws(() => containerSecurity(local, ctx()), FailedPreconditionError);
  });
  it('sets AppArmor only on hosts that have it', () => {
    assert.equal(containerSecurity(containerConfig(), ctx()).apparmorProfile, undefined);
    assert.equal(containerSecurity(containerConfig(), ctx({ options: specOptions({ hostHasAppArmor: true, appArmorDefaultProfile: 'crikit-default' }) })).apparmorProfile, 'crikit-default');
  });
});

describe('containerSeccompProfilePath', () => {
  it('names the file to load for a Localhost profile only', () => {
    const local = (ref: string) => containerConfig({}, { seccomp: { profileType: T.Localhost, localhostRef: ref } });
    assert.equal(containerSeccompProfilePath(local('/var/lib/kubelet/seccomp/p.json'), {}), '/var/lib/kubelet/seccomp/p.json');
    assert.equal(containerSeccompProfilePath(local('p.json'), { seccompProfileRoot: '/etc/crikit/seccomp' }), '/etc/crikit/seccomp/p.json');
    assert.equal(containerSeccompProfilePath(containerConfig({}, { seccompProfilePath: 'localhost//p.json' }), {}), '/p.json');
    assert.equal(containerSeccompProfilePath(containerConfig(), {}), undefined);
    assert.equal(containerSeccompProfilePath(containerConfig({}, { privileged: true, seccomp: { profileType: T.Localhost, localhostRef: '/p' } }), {}), undefined);
  });
});
