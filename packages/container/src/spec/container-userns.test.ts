import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cri } from '@crikit/api';
import { FailedPreconditionError, InvalidArgumentError } from '@crikit/core';
import { buildContainerSpec } from './build-container-spec.js';
import { containerConfig, sandboxConfig, sandboxContext, specInput, specOptions } from './container-spec-fixtures.js';
import { containerUserNamespace, usernsSupportOf } from './container-userns.js';

const UIDS = { containerId: 0, hostId: 65536, length: 65536 };
const GIDS = { containerId: 0, hostId: 131072, length: 65536 };
const USERNS = cri.UserNamespace.fromPartial({ mode: cri.NamespaceMode.POD, uids: [UIDS], gids: [GIDS] });
const usernsPod = () => sandboxConfig({}, { usernsOptions: USERNS });
const RUNC = { userNamespaces: true, idmapMounts: false };
const IDMAP = { userNamespaces: true, idmapMounts: true };
const volume = (extra: Partial<cri.Mount> = {}) => cri.Mount.fromPartial({ containerPath: '/data', hostPath: '/srv/data', uidMappings: [UIDS], gidMappings: [GIDS], ...extra });

describe('containerUserNamespace', () => {
  it('is the pod\'s, whether the container repeats the options or leaves them out', () => {
    assert.deepEqual(containerUserNamespace(containerConfig({}, { namespaceOptions: cri.NamespaceOption.fromPartial({ usernsOptions: USERNS }) }), usernsPod(), RUNC), { uids: UIDS, gids: GIDS });
    assert.deepEqual(containerUserNamespace(containerConfig(), usernsPod(), RUNC), { uids: UIDS, gids: GIDS });
    assert.equal(containerUserNamespace(containerConfig(), sandboxConfig(), RUNC), undefined);
    const node = cri.NamespaceOption.fromPartial({ usernsOptions: { mode: cri.NamespaceMode.NODE } });
    assert.equal(containerUserNamespace(containerConfig({}, { namespaceOptions: node }), sandboxConfig(), RUNC), undefined);
  });
  it('refuses options other than the pod\'s', () => {
    const other = cri.NamespaceOption.fromPartial({ usernsOptions: { ...USERNS, uids: [{ ...UIDS, hostId: 1 }] } });
    assert.throws(() => containerUserNamespace(containerConfig({}, { namespaceOptions: other }), usernsPod(), RUNC), /differs from the pod's user namespace/);
    const own = cri.NamespaceOption.fromPartial({ usernsOptions: USERNS });
    assert.throws(() => containerUserNamespace(containerConfig({}, { namespaceOptions: own }), sandboxConfig(), RUNC), InvalidArgumentError);
  });
  it('lets mounts carry mappings only on a handler with idmapped mounts, in a user namespace pod', () => {
    assert.throws(() => containerUserNamespace(containerConfig({ mounts: [volume()] }), usernsPod(), RUNC), /mounts\[0\] at "\/data": uid\/gid mappings need idmapped mounts/);
    assert.throws(() => containerUserNamespace(containerConfig({ mounts: [volume()] }), sandboxConfig(), IDMAP), /need the pod in a user namespace/);
    assert.doesNotThrow(() => containerUserNamespace(containerConfig({ mounts: [volume()] }), usernsPod(), IDMAP));
  });
  it('in a container joining another pid namespace, lets mounts carry mappings only where the handler makes them there (not crun before 1.8.6)', () => {
    const CRUN_1_8_1 = { userNamespaces: true, idmapMounts: true, idmapMountsJoiningPid: false };
    const pid = (mode: cri.NamespaceMode) => containerConfig({ mounts: [volume()] }, { namespaceOptions: cri.NamespaceOption.fromPartial({ pid: mode, targetId: 'other' }) });
    for (const mode of [cri.NamespaceMode.POD, cri.NamespaceMode.TARGET]) {
      assert.throws(() => containerUserNamespace(pid(mode), usernsPod(), CRUN_1_8_1),
        new RegExp(`mounts\\[0\\] at "/data": uid/gid mappings in a container that joins another pid namespace \\(pid ${cri.NamespaceMode[mode]}\\).*own pid namespace`));
      assert.doesNotThrow(() => containerUserNamespace(pid(mode), usernsPod(), IDMAP));
    }
    assert.doesNotThrow(() => containerUserNamespace(pid(cri.NamespaceMode.CONTAINER), usernsPod(), CRUN_1_8_1));
    // Without mappings, nothing to refuse.
    assert.doesNotThrow(() => containerUserNamespace(containerConfig({}, { namespaceOptions: cri.NamespaceOption.fromPartial({ pid: cri.NamespaceMode.POD }) }), usernsPod(), CRUN_1_8_1));
  });
  it('reads the support from a Status handler report', () => {
    assert.deepEqual(usernsSupportOf(undefined), { userNamespaces: false, idmapMounts: false, idmapMountsJoiningPid: false });
    const features = { recursiveReadOnlyMounts: true, userNamespaces: true };
    assert.deepEqual(usernsSupportOf({ name: 'x', features, idmapMounts: true }), { ...IDMAP, idmapMountsJoiningPid: true });
    assert.deepEqual(usernsSupportOf({ name: 'x', features, idmapMounts: true, idmapMountsJoiningPid: false }), { ...IDMAP, idmapMountsJoiningPid: false });
  });
});

describe('buildContainerSpec in a user namespace pod', () => {
  it('joins the pause\'s user namespace first, with the pod\'s mappings', () => {
    const spec = buildContainerSpec(specInput({ sandbox: sandboxContext(usernsPod()), options: specOptions({ userns: RUNC }) }));
    assert.deepEqual(spec.linux?.namespaces?.[0], { type: 'user', path: '/proc/4242/ns/user' });
    assert.deepEqual(spec.linux?.namespaces?.map(n => n.type), ['user', 'mount', 'network', 'uts', 'ipc', 'pid', 'cgroup']);
    assert.deepEqual(spec.linux?.uidMappings, [{ containerID: 0, hostID: 65536, size: 65536 }]);
    assert.deepEqual(spec.linux?.gidMappings, [{ containerID: 0, hostID: 131072, size: 65536 }]);
  });
  it('leaves a pod without one as before: no user namespace, no mappings', () => {
    const spec = buildContainerSpec(specInput());
    assert.equal(spec.linux?.namespaces?.some(n => n.type === 'user'), false);
    assert.equal(spec.linux?.uidMappings, undefined);
  });
  it('idmaps a volume with mappings on a handler that has idmapped mounts (runtime-spec 1.1), and refuses it elsewhere', () => {
    const input = specInput({ config: containerConfig({ command: ['/bin/sh'], mounts: [volume()] }), sandbox: sandboxContext(usernsPod()), options: specOptions({ userns: IDMAP }) });
    const data = buildContainerSpec(input).mounts?.find(m => m.destination === '/data');
    assert.deepEqual(data?.uidMappings, [{ containerID: 0, hostID: 65536, size: 65536 }]);
    assert.deepEqual(data?.gidMappings, [{ containerID: 0, hostID: 131072, size: 65536 }]);
    assert.throws(() => buildContainerSpec({ ...input, options: specOptions({ userns: RUNC }) }), InvalidArgumentError);
    assert.throws(() => buildContainerSpec({ ...input, options: specOptions() }), InvalidArgumentError);
  });
  it('refuses a user or group the namespace does not map', () => {
    const small = cri.UserNamespace.fromPartial({ mode: cri.NamespaceMode.POD, uids: [{ ...UIDS, length: 1000 }], gids: [{ ...GIDS, length: 1000 }] });
    const pod = sandboxContext(sandboxConfig({}, { usernsOptions: small }));
    const as = (uid: number, gid?: number) => specInput({
      config: containerConfig({ command: ['/bin/sh'] }, { runAsUser: { value: BigInt(uid) }, ...(gid !== undefined ? { runAsGroup: { value: BigInt(gid) } } : {}) }),
      sandbox: pod, options: specOptions({ userns: RUNC }),
    });
    assert.equal(buildContainerSpec(as(999, 999)).process?.user.uid, 999);
    assert.throws(() => buildContainerSpec(as(1000)), /runs as uid 1000, outside the pod's user namespace, which maps uids 0-999/);
    assert.throws(() => buildContainerSpec(as(0, 5000)), /runs with gid 5000, outside/);
  });
  it('needs a running pause to join', () => {
    assert.throws(() => buildContainerSpec(specInput({ sandbox: sandboxContext(usernsPod(), { pid: 0 }), options: specOptions({ userns: RUNC }) })), FailedPreconditionError);
  });
});
