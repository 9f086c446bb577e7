import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cri } from '@crikit/api';
import { FailedPreconditionError, InvalidArgumentError, UnimplementedError } from '@crikit/core';
import { bindMount, containerMounts, sandboxMounts, type MountContext } from './container-mounts.js';
import { containerConfig, sandboxConfig, sandboxContext } from './container-spec-fixtures.js';

const P = cri.MountPropagation;
const mount = (patch: Partial<cri.Mount>): cri.Mount => cri.Mount.fromPartial({ containerPath: '/data', hostPath: '/srv/data', ...patch });
const ctx = (patch: Partial<MountContext> = {}): MountContext =>
  ({ sandbox: sandboxContext(), privileged: false, readonlyRootfs: false, supportsRecursiveReadOnly: true, ...patch });

describe('bindMount', () => {
  it('maps propagation and read-only', () => {
    assert.deepEqual(bindMount(mount({}), true), { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'rprivate', 'rw'] });
    assert.deepEqual(bindMount(mount({ readonly: true, propagation: P.PROPAGATION_HOST_TO_CONTAINER }), true).options, ['rbind', 'rslave', 'ro']);
    assert.deepEqual(bindMount(mount({ propagation: P.PROPAGATION_BIDIRECTIONAL }), true).options, ['rbind', 'rshared', 'rw']);
    assert.deepEqual(bindMount(mount({ propagation: P.UNRECOGNIZED }), true).options, ['rbind', 'rprivate', 'rw']);
  });
  it('writes rro for recursive read-only, when supported and consistent', () => {
    assert.deepEqual(bindMount(mount({ readonly: true, recursiveReadOnly: true }), true).options, ['rbind', 'rprivate', 'rro']);
    assert.throws(() => bindMount(mount({ readonly: true, recursiveReadOnly: true }), false), FailedPreconditionError);
    assert.throws(() => bindMount(mount({ recursiveReadOnly: true }), true), InvalidArgumentError);
    assert.throws(() => bindMount(mount({ readonly: true, recursiveReadOnly: true, propagation: P.PROPAGATION_HOST_TO_CONTAINER }), true), InvalidArgumentError);
  });
  it('cleans the destination and refuses relative paths and image mounts', () => {
    assert.equal(bindMount(mount({ containerPath: '/data/../var//x/' }), true).destination, '/var/x');
    assert.throws(() => bindMount(mount({ containerPath: 'data' }), true), InvalidArgumentError);
    assert.throws(() => bindMount(mount({ hostPath: '', image: cri.ImageSpec.fromPartial({ image: 'x' }) }), true), UnimplementedError);
  });
});

describe('idmapped bind mounts', () => {
  it('carry the mount\'s uid and gid mappings as runtime-spec 1.1 mappings', () => {
    const m = bindMount(mount({ uidMappings: [{ containerId: 0, hostId: 1000, length: 10 }], gidMappings: [{ containerId: 0, hostId: 2000, length: 10 }] }), true);
    assert.deepEqual(m.uidMappings, [{ containerID: 0, hostID: 1000, size: 10 }]);
    assert.deepEqual(m.gidMappings, [{ containerID: 0, hostID: 2000, size: 10 }]);
    assert.equal(bindMount(mount({}), true).uidMappings, undefined);
  });
});

describe('sandboxMounts', () => {
  it('mounts hostname, hosts, resolv.conf (ro with a ro rootfs) and the sandbox shm (rw)', () => {
    const mounts = sandboxMounts(containerConfig(), ctx({ readonlyRootfs: true }));
    assert.deepEqual(mounts.map(m => [m.containerPath, m.hostPath, m.readonly]), [
      ['/etc/hostname', '/sb/hostname', true], ['/etc/hosts', '/sb/hosts', true],
      ['/etc/resolv.conf', '/sb/resolv.conf', true], ['/dev/shm', '/sb/shm', false],
    ]);
  });
  it('skips a missing hostname file, uses the host shm with host IPC, and yields to CRI mounts', () => {
    const sandbox = sandboxContext(sandboxConfig({}, { ipc: cri.NamespaceMode.NODE }), {
      files: { hosts: '/sb/hosts', resolvConf: '/sb/resolv.conf', shm: '/sb/shm' },
    });
    const mounts = sandboxMounts(containerConfig({ mounts: [mount({ containerPath: '/etc/hosts/' })] }), ctx({ sandbox }));
    assert.deepEqual(mounts.map(m => [m.containerPath, m.hostPath]), [['/etc/resolv.conf', '/sb/resolv.conf'], ['/dev/shm', '/dev/shm']]);
  });
});

describe('containerMounts', () => {
  it('keeps the defaults, adds the sandbox files and CRI mounts, parents first', () => {
    const { mounts, rootfsPropagation } = containerMounts(containerConfig({ mounts: [mount({ containerPath: '/var/lib/x' }), mount({ containerPath: '/var' })] }), ctx());
    const dests = mounts.map(m => m.destination);
    assert.deepEqual(dests, ['/proc', '/dev', '/sys', '/var', '/dev/pts', '/dev/mqueue', '/etc/hostname', '/etc/hosts',
      '/etc/resolv.conf', '/dev/shm', '/sys/fs/cgroup', '/var/lib/x']);
    assert.equal(mounts.find(m => m.destination === '/dev/shm')?.source, '/sb/shm');
    assert.equal(mounts.find(m => m.destination === '/sys/fs/cgroup')?.options?.at(-1), 'ro');
    assert.equal(rootfsPropagation, undefined);
  });
  it('lets a CRI mount replace a default, and a /dev mount drop everything under /dev', () => {
    const { mounts } = containerMounts(containerConfig({ mounts: [mount({ containerPath: '/dev', hostPath: '/dev' }), mount({ containerPath: '/proc', hostPath: '/p' })] }), ctx());
    assert.equal(mounts.filter(m => m.destination === '/proc').length, 1);
    assert.equal(mounts.find(m => m.destination === '/proc')?.type, 'bind');
    assert.ok(!mounts.some(m => m.destination === '/dev/pts' || m.destination === '/dev/mqueue'));
    // The sandbox's shm is not a default mount: it stays, mounted after /dev.
    assert.deepEqual(mounts.filter(m => m.destination.startsWith('/dev')).map(m => [m.destination, m.source]), [['/dev', '/dev'], ['/dev/shm', '/sb/shm']]);
  });
  it('keeps the last of duplicate CRI mounts', () => {
    const { mounts } = containerMounts(containerConfig({ mounts: [mount({ hostPath: '/a' }), mount({ hostPath: '/b' })] }), ctx());
    assert.deepEqual(mounts.filter(m => m.destination === '/data').map(m => m.source), ['/b']);
  });
  it('sets rootfs propagation for slave and shared mounts', () => {
    const slave = mount({ propagation: P.PROPAGATION_HOST_TO_CONTAINER });
    const shared = mount({ containerPath: '/s', propagation: P.PROPAGATION_BIDIRECTIONAL });
    assert.equal(containerMounts(containerConfig({ mounts: [slave] }), ctx()).rootfsPropagation, 'rslave');
    assert.equal(containerMounts(containerConfig({ mounts: [shared, slave] }), ctx()).rootfsPropagation, 'rshared');
  });
  it('makes /sys and the cgroup fs writable for privileged containers', () => {
    const { mounts } = containerMounts(containerConfig(), ctx({ privileged: true }));
    assert.deepEqual(mounts.find(m => m.destination === '/sys')?.options, ['nosuid', 'noexec', 'nodev', 'rw']);
    assert.equal(mounts.find(m => m.destination === '/sys/fs/cgroup')?.options?.at(-1), 'rw');
  });
});
