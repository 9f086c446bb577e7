import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cri } from '@crikit/api';
import { InvalidArgumentError } from '@crikit/core';
import { fromSpecAny, toSpecAny } from '@crikit/oci';
import { buildContainerSpec } from './build-container-spec.js';
import { CONTAINER_ID, containerConfig, SANDBOX_ID, sandboxConfig, sandboxContext, specInput, specOptions } from './container-spec-fixtures.js';

describe('buildContainerSpec', () => {
  it('builds a complete spec for a plain container', () => {
    const spec = buildContainerSpec(specInput());
    assert.equal(spec.ociVersion, '1.1.0');
    assert.deepEqual(spec.root, { path: 'rootfs' });
    assert.deepEqual(spec.process?.args, ['/bin/sh']);
    assert.deepEqual(spec.process?.env, ['PATH=/bin', 'HOSTNAME=web-0']);
    assert.deepEqual(spec.process?.user, { uid: 0, gid: 0, additionalGids: [0] });
    assert.equal(spec.process?.noNewPrivileges, false);
    assert.equal(spec.process?.terminal, false);
    assert.equal(spec.process?.rlimits, undefined);
    assert.equal(spec.hostname, undefined);   // the container shares the pause's UTS namespace
    assert.equal(spec.linux?.cgroupsPath, `/kubepods/pod1/${CONTAINER_ID}`);
    assert.deepEqual(spec.linux?.namespaces?.map(n => n.type), ['mount', 'network', 'uts', 'ipc', 'pid', 'cgroup']);
    assert.equal(spec.linux?.resources?.devices?.[0]?.allow, false);
    assert.equal(spec.linux?.seccomp, undefined);
    assert.equal(spec.linux?.maskedPaths, undefined);
    assert.equal(spec.annotations?.['io.kubernetes.cri.sandbox-id'], SANDBOX_ID);
    assert.ok(spec.mounts?.some(m => m.destination === '/etc/resolv.conf' && m.source === '/sb/resolv.conf'));
  });

  it('carries what the kubelet asks for into each part', () => {
    const config = containerConfig({
      command: ['/app'], tty: true,
      mounts: [cri.Mount.fromPartial({ containerPath: '/data', hostPath: '/srv', propagation: cri.MountPropagation.PROPAGATION_HOST_TO_CONTAINER })],
      devices: [{ containerPath: '/dev/fuse', hostPath: '/dev/fuse', permissions: 'rw' }],
    }, {
      readonlyRootfs: true, noNewPrivs: true, maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'],
      seccomp: { profileType: cri.SecurityProfile_ProfileType.RuntimeDefault, localhostRef: '' },
    }, { memoryLimitInBytes: 1024n, cpuShares: 256n, oomScoreAdj: 500n });
    const spec = buildContainerSpec(specInput({ config }));
    assert.deepEqual(spec.root, { path: 'rootfs', readonly: true });
    assert.equal(spec.process?.terminal, true);
    assert.equal(spec.process?.noNewPrivileges, true);
    assert.equal(spec.process?.oomScoreAdj, 500);
    assert.deepEqual(spec.linux?.resources?.memory, { limit: 1024, swap: 1024 });
    assert.deepEqual(spec.linux?.resources?.cpu, { shares: 256 });
    assert.deepEqual(spec.linux?.devices?.map(d => d.path), ['/dev/fuse']);
    assert.deepEqual(spec.linux?.resources?.devices?.at(-1), { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' });
    assert.equal(spec.linux?.rootfsPropagation, 'rslave');
    assert.deepEqual(spec.linux?.maskedPaths, ['/proc/kcore']);
    assert.equal(spec.linux?.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(spec.mounts?.find(m => m.destination === '/etc/hosts')?.options?.at(-1), 'ro');
  });

  it('builds a privileged container in a privileged sandbox', () => {
    const sandbox = sandboxContext(sandboxConfig({ privileged: true }));
    const spec = buildContainerSpec(specInput({ sandbox, config: containerConfig({ command: ['sh'] }, { privileged: true }) }));
    assert.deepEqual(spec.linux?.resources?.devices, [{ allow: true, access: 'rwm' }]);
    assert.equal(spec.linux?.devices?.length, 2);
    assert.equal(spec.linux?.seccomp, undefined);
    assert.ok(!spec.linux?.namespaces?.some(n => n.type === 'cgroup'));
    assert.ok(spec.process?.capabilities?.bounding?.includes('CAP_SYS_ADMIN'));
    assert.equal(spec.mounts?.find(m => m.destination === '/sys')?.options?.at(-1), 'rw');
    assert.throws(() => buildContainerSpec(specInput({ config: containerConfig({ command: ['sh'] }, { privileged: true }) })), InvalidArgumentError);
  });

  it('uses the systemd cgroups path form', () => {
    const sandbox = sandboxContext(sandboxConfig({}, {}, '/kubepods.slice/kubepods-pod1.slice'));
    const spec = buildContainerSpec(specInput({ sandbox, options: specOptions({ cgroupDriver: 'systemd' }) }));
    assert.equal(spec.linux?.cgroupsPath, `kubepods-pod1.slice:cri-containerd:${CONTAINER_ID}`);
  });

  it('is pure and its result survives toSpecAny', () => {
    const input = specInput();
    const a = buildContainerSpec(input);
    assert.deepEqual(buildContainerSpec(input), a);
    assert.deepEqual(fromSpecAny(toSpecAny(a)), JSON.parse(JSON.stringify(a)));
  });
});
