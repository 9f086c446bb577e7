import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '@crikit/core';
import {
  applyCapabilityChanges, boundingCapabilitiesOf, capabilitiesFromMask, capabilitySets, containerCapabilities, DEFAULT_CAPABILITIES,
  knownCapabilities, LINUX_CAPABILITIES, normalizeCapability,
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

// Recorded on a VM whose bounding set lacks CAP_SYS_RESOURCE (bit 24), and a full kernel 5.9+ set.
const RECORDED_STATUS = 'Name:\tnode\nCapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\n';
const FULL_MASK = '000001ffffffffff';

describe('capabilities from /proc/<pid>/status', () => {
  it('reads CapBnd as names in kernel order, leaving out the withheld bit', () => {
    const held = boundingCapabilitiesOf(RECORDED_STATUS)!;
    assert.equal(held.length, 40);
    assert.ok(!held.includes('CAP_SYS_RESOURCE'));
    assert.deepEqual(held, LINUX_CAPABILITIES.filter(c => c !== 'CAP_SYS_RESOURCE'));
    assert.deepEqual(capabilitiesFromMask(FULL_MASK), [...LINUX_CAPABILITIES]);
    assert.deepEqual(capabilitiesFromMask('0000000000001001'), ['CAP_CHOWN', 'CAP_NET_ADMIN']);
  });
  it('ignores bits it has no name for and refuses what is not a mask', () => {
    assert.deepEqual(capabilitiesFromMask('ffffffffffffffff'), [...LINUX_CAPABILITIES]);
    assert.deepEqual(capabilitiesFromMask('0'), []);
    assert.throws(() => capabilitiesFromMask('CapBnd'), InvalidArgumentError);
    assert.throws(() => capabilitiesFromMask('1'.repeat(17)), InvalidArgumentError);
    assert.equal(boundingCapabilitiesOf('Name:\tx\n'), undefined);
  });
});

describe('containerCapabilities on a host with a reduced bounding set', () => {
  const host = boundingCapabilitiesOf(RECORDED_STATUS)!;
  const resolve = (add: string[], drop: string[], privileged = false) => containerCapabilities({ privileged, changes: { add, drop }, host });

  it('grants a privileged container exactly what the runtime holds, whatever add/drop say', () => {
    assert.deepEqual(resolve([], []  , true), host);
    assert.deepEqual(resolve(['SYS_RESOURCE'], ['ALL'], true), host);
  });
  it('ALL is the runtime\'s set; single drops apply after it, in any case and with or without CAP_', () => {
    const caps = resolve(['all'], ['chown', 'CAP_KILL']);
    assert.equal(caps.length, host.length - 2);
    assert.ok(!caps.includes('CAP_SYS_RESOURCE'));
    assert.ok(!caps.includes('CAP_CHOWN') && !caps.includes('CAP_KILL'));
    assert.deepEqual(resolve(['ALL'], ['ALL']), []);
    assert.deepEqual(resolve(['NET_ADMIN'], ['ALL']), ['CAP_NET_ADMIN']);
  });
  it('keeps the defaults when nothing is asked', () => {
    assert.deepEqual(resolve([], []), [...DEFAULT_CAPABILITIES]);
  });
  it('refuses a named capability the runtime does not hold, naming it and the field', () => {
    for (const name of ['SYS_RESOURCE', 'cap_sys_resource', 'CAP_SYS_RESOURCE']) {
      assert.throws(() => resolve([name], []), (e: Error) => e instanceof InvalidArgumentError
        && e.message.includes('CAP_SYS_RESOURCE') && e.message.includes('add_capabilities'));
    }
    assert.throws(() => resolve(['ALL', 'SYS_RESOURCE'], []), InvalidArgumentError);
    assert.throws(() => resolve(['NOT_A_CAP'], []), /CAP_NOT_A_CAP/);
    // Dropping what the host lacks is harmless.
    assert.deepEqual(resolve([], ['SYS_RESOURCE']), [...DEFAULT_CAPABILITIES]);
  });
});
