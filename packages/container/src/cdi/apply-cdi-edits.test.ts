import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OciSpec } from '@crikit/oci';
import { applyCdiEdits } from './apply-cdi-edits.js';

const base = (): OciSpec => ({
  ociVersion: '1.1.0',
  process: { user: { uid: 1000, gid: 1000, additionalGids: [1000] }, args: ['sh'], cwd: '/', env: ['PATH=/bin', 'FOO=image'] },
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs' },
    { destination: '/etc/hosts', type: 'bind', source: '/h' },
    { destination: '/data/sub', type: 'bind', source: '/old' },
  ],
  linux: { devices: [{ type: 'c', path: '/dev/x', major: 9, minor: 9 }], resources: { devices: [{ allow: false, access: 'rwm' }] } },
});

test('env replaces or appends; device nodes replace by path, take the process owner and get an allow rule', () => {
  const spec = applyCdiEdits(base(), { devices: ['v.com/c=a'], edits: [
    { env: ['FOO=bar', 'NEW=1'] },
    { deviceNodes: [
      { path: '/dev/x', type: 'c', major: 1, minor: 3, permissions: 'rw' },
      { path: '/dev/blk', type: 'b', major: 7, minor: 0, uid: 0, gid: 5, fileMode: 0o600 },
      { path: '/dev/fifo', type: 'p', major: 0, minor: 0 },
    ] },
  ] });
  assert.deepEqual(spec.process!.env, ['PATH=/bin', 'FOO=bar', 'NEW=1']);
  assert.deepEqual(spec.linux!.devices, [
    { type: 'c', path: '/dev/x', major: 1, minor: 3, uid: 1000, gid: 1000 },
    { type: 'b', path: '/dev/blk', major: 7, minor: 0, fileMode: 0o600, uid: 0, gid: 5 },
    { type: 'p', path: '/dev/fifo', uid: 1000, gid: 1000 },
  ]);
  assert.deepEqual(spec.linux!.resources!.devices, [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
    { allow: true, type: 'b', major: 7, minor: 0, access: 'rwm' },
  ]);
});

test('a root process leaves device owners unset', () => {
  const spec = base();
  spec.process!.user = { uid: 0, gid: 0 };
  applyCdiEdits(spec, { devices: [], edits: [{ deviceNodes: [{ path: '/dev/y', type: 'c', major: 1, minor: 5 }] }] });
  assert.deepEqual(spec.linux!.devices![1], { type: 'c', path: '/dev/y', major: 1, minor: 5 });
});

test('mounts replace by container path, then all are ordered parent first', () => {
  const spec = applyCdiEdits(base(), { devices: [], edits: [{ mounts: [
    { hostPath: '/new', containerPath: '/data/sub', options: ['ro', 'bind'] },
    { hostPath: '/lib', containerPath: '/data', type: 'bind', options: ['rbind'] },
  ] }] });
  assert.deepEqual(spec.mounts!.map(m => `${m.destination}<-${m.source}`), ['/data<-/lib', '/dev<-tmpfs', '/proc<-proc', '/data/sub<-/new', '/etc/hosts<-/h']);
  assert.deepEqual(spec.mounts![3], { destination: '/data/sub', source: '/new', options: ['ro', 'bind'] });
});

test('hooks go to their lists; additional gids are merged, 0 ignored', () => {
  const spec = applyCdiEdits(base(), { devices: [], edits: [
    { hooks: [{ hookName: 'createRuntime', path: '/bin/a', args: ['a', '1'], timeout: 3 }, { hookName: 'poststop', path: '/bin/b' }] },
    { hooks: [{ hookName: 'createRuntime', path: '/bin/c', env: ['X=1'] }], additionalGids: [0, 44, 1000, 7] },
  ] });
  assert.deepEqual(spec.hooks, {
    createRuntime: [{ path: '/bin/a', args: ['a', '1'], timeout: 3 }, { path: '/bin/c', env: ['X=1'] }],
    poststop: [{ path: '/bin/b' }],
  });
  assert.deepEqual(spec.process!.user.additionalGids, [7, 44, 1000]);
});

test('no edits leave the spec as it was', () => {
  assert.deepEqual(applyCdiEdits(base(), { devices: [], edits: [] }), base());
});
