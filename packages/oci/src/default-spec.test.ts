import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CAPABILITIES } from './capabilities.js';
import { cgroupMount, DEFAULT_MASKED_PATHS, DEFAULT_PATH_ENV, DEFAULT_READONLY_PATHS, defaultLinuxSpec } from './default-spec.js';

describe('defaultLinuxSpec', () => {
  const spec = defaultLinuxSpec({ cgroupsPath: '/k8s.io/abc' });

  it('has containerd’s process defaults', () => {
    assert.equal(spec.ociVersion, '1.1.0');
    assert.deepEqual(spec.root, { path: 'rootfs' });
    assert.equal(spec.process?.cwd, '/');
    assert.deepEqual(spec.process?.user, { uid: 0, gid: 0 });
    assert.deepEqual(spec.process?.env, [DEFAULT_PATH_ENV]);
    assert.equal(spec.process?.noNewPrivileges, true);
    assert.deepEqual(spec.process?.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }]);
    assert.deepEqual(spec.process?.capabilities?.bounding, [...DEFAULT_CAPABILITIES]);
    assert.deepEqual(spec.process?.capabilities?.effective, [...DEFAULT_CAPABILITIES]);
    assert.deepEqual(spec.process?.capabilities?.permitted, [...DEFAULT_CAPABILITIES]);
    assert.equal(spec.process?.capabilities?.inheritable, undefined);
  });

  it('mounts the kernel file systems with their options, no /run, and a read-only cgroup fs', () => {
    const byDest = new Map(spec.mounts?.map(m => [m.destination, m]));
    assert.deepEqual([...byDest.keys()], ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']);
    assert.equal(byDest.get('/proc')?.type, 'proc');
    assert.deepEqual(byDest.get('/dev')?.options, ['nosuid', 'strictatime', 'mode=755', 'size=65536k']);
    assert.deepEqual(byDest.get('/dev/pts')?.options, ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']);
    assert.deepEqual(byDest.get('/dev/shm')?.options, ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k']);
    assert.equal(byDest.get('/dev/mqueue')?.type, 'mqueue');
    assert.deepEqual(byDest.get('/sys')?.options, ['nosuid', 'noexec', 'nodev', 'ro']);
    assert.equal(byDest.get('/sys/fs/cgroup')?.options?.at(-1), 'ro');
    assert.equal(byDest.has('/run'), false);
  });

  it('writes a writable cgroup mount on request', () => {
    assert.equal(cgroupMount({ writable: true }).options?.at(-1), 'rw');
  });

  it('has new pid/ipc/uts/mount/network namespaces and the cgroups path', () => {
    assert.deepEqual(spec.linux?.namespaces?.map(n => n.type), ['pid', 'ipc', 'uts', 'mount', 'network']);
    assert.ok(spec.linux?.namespaces?.every(n => n.path === undefined));
    assert.equal(spec.linux?.cgroupsPath, '/k8s.io/abc');
    assert.equal('cgroupsPath' in (defaultLinuxSpec().linux ?? {}), false);
  });

  it('masks and write-protects the default paths', () => {
    assert.deepEqual(spec.linux?.maskedPaths, [...DEFAULT_MASKED_PATHS]);
    assert.ok(spec.linux?.maskedPaths?.includes('/sys/devices/virtual/powercap'));
    assert.deepEqual(spec.linux?.readonlyPaths, [...DEFAULT_READONLY_PATHS]);
  });

  it('denies all devices first, then allows the standard ones', () => {
    const rules = spec.linux?.resources?.devices ?? [];
    assert.deepEqual(rules[0], { allow: false, access: 'rwm' });
    const allowed = rules.filter(r => r.allow && r.access === 'rwm').map(r => `${r.major}:${r.minor ?? '*'}`);
    for (const dev of ['1:3', '1:5', '1:7', '5:0', '1:8', '1:9', '5:2', '136:*']) assert.ok(allowed.includes(dev), dev);
  });

  it('returns a fresh object each call', () => {
    const a = defaultLinuxSpec();
    a.process?.env?.push('X=1');
    a.linux?.resources?.devices?.push({ allow: true });
    assert.deepEqual(defaultLinuxSpec().process?.env, [DEFAULT_PATH_ENV]);
    assert.equal(defaultLinuxSpec().linux?.resources?.devices?.length, spec.linux?.resources?.devices?.length);
  });
});
