import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../errors.js';
import {
  applyCapabilityChanges, capabilitySets, DEFAULT_CAPABILITIES, knownCapabilities, LINUX_CAPABILITIES, normalizeCapability,
} from './capabilities.js';

describe('capabilities', () => {
  it('lists the 41 Linux capabilities in kernel order and the 14 defaults', () => {
    assert.equal(LINUX_CAPABILITIES.length, 41);
    assert.equal(LINUX_CAPABILITIES[21], 'CAP_SYS_ADMIN');
    assert.equal(LINUX_CAPABILITIES[40], 'CAP_CHECKPOINT_RESTORE');
    assert.equal(DEFAULT_CAPABILITIES.length, 14);
    assert.ok(DEFAULT_CAPABILITIES.every(c => LINUX_CAPABILITIES.includes(c)));
    assert.ok(!DEFAULT_CAPABILITIES.includes('CAP_SYS_ADMIN'));
  });

  it('trims the list to what the kernel knows', () => {
    assert.equal(knownCapabilities(37).length, 38);
    assert.equal(knownCapabilities(37).at(-1), 'CAP_AUDIT_READ');
    assert.equal(knownCapabilities(), LINUX_CAPABILITIES);
  });

  it('normalizes names to CAP_ upper case and refuses malformed ones', () => {
    assert.equal(normalizeCapability('net_admin'), 'CAP_NET_ADMIN');
    assert.equal(normalizeCapability('CAP_KILL'), 'CAP_KILL');
    assert.equal(normalizeCapability('cap_kill'), 'CAP_KILL');
    assert.throws(() => normalizeCapability('net admin'), InvalidArgumentError);
    assert.throws(() => normalizeCapability(''), InvalidArgumentError);
  });

  it('adds and drops single capabilities, drop last', () => {
    const caps = applyCapabilityChanges(DEFAULT_CAPABILITIES, { add: ['NET_ADMIN', 'KILL'], drop: ['CHOWN', 'NET_ADMIN'] });
    assert.ok(!caps.includes('CAP_CHOWN'));
    assert.ok(!caps.includes('CAP_NET_ADMIN'));
    assert.equal(caps.filter(c => c === 'CAP_KILL').length, 1);
    assert.equal(caps.length, DEFAULT_CAPABILITIES.length - 1);
  });

  it('add ALL grants everything, then single drops apply', () => {
    const caps = applyCapabilityChanges(DEFAULT_CAPABILITIES, { add: ['ALL'], drop: ['CHOWN'] });
    assert.equal(caps.length, LINUX_CAPABILITIES.length - 1);
    assert.ok(caps.includes('CAP_SYS_ADMIN'));
    assert.ok(!caps.includes('CAP_CHOWN'));
  });

  it('drop ALL removes everything, then single adds apply', () => {
    assert.deepEqual(applyCapabilityChanges(DEFAULT_CAPABILITIES, { drop: ['all'], add: ['NET_BIND_SERVICE'] }), ['CAP_NET_BIND_SERVICE']);
    assert.deepEqual(applyCapabilityChanges(DEFAULT_CAPABILITIES, { add: ['ALL'], drop: ['ALL'] }), []);
  });

  it('uses the given universe for ALL', () => {
    assert.deepEqual(applyCapabilityChanges([], { add: ['ALL'] }, ['CAP_CHOWN', 'CAP_KILL']), ['CAP_CHOWN', 'CAP_KILL']);
  });

  it('makes bounding, effective and permitted sets without inheritable or ambient', () => {
    const sets = capabilitySets(['CAP_KILL']);
    assert.deepEqual(sets, { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] });
    assert.notEqual(sets.bounding, sets.effective);
  });
});
