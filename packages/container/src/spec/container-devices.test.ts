import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, NotFoundError } from '@crikit/core';
import { containerDevices, devicePermissions } from './container-devices.js';
import { charDevice, containerConfig, hostDevices } from './container-spec-fixtures.js';

const host = hostDevices([charDevice('/dev/fuse', 10, 229), charDevice('/dev/snd/pcm0', 116, 2), charDevice('/dev/snd/ctl0', 116, 3),
  { path: '/dev/sda', type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 }]);
const device = (hostPath: string, containerPath = '', permissions = '') => ({ hostPath, containerPath, permissions });

describe('devicePermissions', () => {
  it('defaults to rwm and accepts combinations of r, w, m', () => {
    assert.equal(devicePermissions(''), 'rwm');
    assert.equal(devicePermissions('rw'), 'rw');
    assert.throws(() => devicePermissions('rx'), InvalidArgumentError);
    assert.throws(() => devicePermissions('rr'), InvalidArgumentError);
  });
});

describe('containerDevices', () => {
  const ctx = { host, privileged: false, ownershipFromSecurityContext: false };
  it('adds each CRI device and an allow rule with its permissions', () => {
    const out = containerDevices(containerConfig({ devices: [device('/dev/fuse', '/dev/fuse', 'rw'), device('/dev/sda', '/dev/xvda')] }), ctx);
    assert.deepEqual(out.devices, [
      { type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
      { type: 'b', path: '/dev/xvda', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 },
    ]);
    assert.deepEqual(out.rules, [
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
      { allow: true, type: 'b', major: 8, minor: 0, access: 'rwm' },
    ]);
    assert.equal(out.replaceDefaultRules, false);
  });
  it('expands a directory below the container path', () => {
    const out = containerDevices(containerConfig({ devices: [device('/dev/snd', '/dev/sound')] }), ctx);
    assert.deepEqual(out.devices.map(d => d.path), ['/dev/sound/pcm0', '/dev/sound/ctl0']);
  });
  it('gives devices to run_as_user/run_as_group when configured', () => {
    const cfg = containerConfig({ devices: [device('/dev/fuse', '/dev/fuse')] }, { runAsUser: { value: 1000n }, runAsGroup: { value: 0n } });
    const dev = containerDevices(cfg, { ...ctx, ownershipFromSecurityContext: true }).devices[0];
    assert.equal(dev?.uid, 1000);
    assert.equal(dev?.gid, 0);
  });
  it('gives privileged containers every host device and allows all', () => {
    const out = containerDevices(containerConfig({ devices: [device('/dev/fuse')] }), { ...ctx, privileged: true });
    assert.equal(out.devices.length, 4);
    assert.deepEqual(out.rules, [{ allow: true, access: 'rwm' }]);
    assert.equal(out.replaceDefaultRules, true);
  });
  it('passes on lookup failures and refuses relative container paths', () => {
    assert.throws(() => containerDevices(containerConfig({ devices: [device('/dev/nope')] }), ctx), NotFoundError);
    assert.throws(() => containerDevices(containerConfig({ devices: [device('/dev/fuse', 'fuse')] }), ctx), InvalidArgumentError);
  });
});
