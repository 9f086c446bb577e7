import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { cri } from '@crikit/api';
import { errorKind, isNotFound } from '@crikit/core';
import { MAX_DEVICE_DEPTH, MAX_DEVICE_ENTRIES, prepareHostDevices, StatHostDevices } from './host-devices.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ck-devices-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const host = new StatHostDevices();

describe('StatHostDevices', () => {
  it('finds a device node, and the nodes of a directory through a symlink to it', async () => {
    assert.deepEqual((await host.lookup('/dev/null')).map(d => [d.path, d.type, d.major, d.minor]), [['/dev/null', 'c', 1, 3]]);
    const devDir = path.join(dir, 'devs');
    fs.mkdirSync(devDir);
    fs.symlinkSync('/dev/null', path.join(devDir, 'null-link')); // links below the start are not followed
    fs.symlinkSync('/dev', path.join(devDir, 'dev-link'));
    assert.deepEqual(await host.lookup(devDir), []);
  });

  it('refuses a tree deeper than the bound instead of walking it', async () => {
    let deep = path.join(dir, 'deep');
    for (let i = 0; i <= MAX_DEVICE_DEPTH + 2; i++) deep = path.join(deep, 'd');
    fs.mkdirSync(deep, { recursive: true });
    await assert.rejects(host.lookup(path.join(dir, 'deep')), (err: Error) => errorKind(err) === 'invalid-argument' && /deeper than/.test(err.message));
  });

  it('refuses a tree with more entries than the bound, and / itself', async () => {
    const wide = path.join(dir, 'wide');
    fs.mkdirSync(wide);
    for (let i = 0; i <= MAX_DEVICE_ENTRIES; i++) fs.writeFileSync(path.join(wide, String(i)), '');
    await assert.rejects(host.lookup(wide), (err: Error) => errorKind(err) === 'invalid-argument' && /more than 4096 entries/.test(err.message));
    await assert.rejects(host.lookup('/'), (err: Error) => errorKind(err) === 'invalid-argument');
  });

  it('walks off the event loop: other callbacks run while it works', async () => {
    let ran = false;
    setImmediate(() => { ran = true; });
    const pending = host.lookup('/dev');
    assert.ok(pending instanceof Promise);
    await pending;
    assert.ok(ran);
  });

  it('prepareHostDevices answers the builder from what it looked up, errors included', async () => {
    const config = cri.ContainerConfig.fromPartial({ devices: [{ hostPath: '/dev/null', containerPath: '/dev/n', permissions: 'r' }, { hostPath: '/nonexistent', containerPath: '/x', permissions: 'r' }] });
    const devices = await prepareHostDevices(host, config);
    assert.equal(devices.lookup('/dev/null')[0]?.minor, 3);
    assert.throws(() => devices.lookup('/nonexistent'), isNotFound);
    assert.throws(() => devices.all(), /privileged/);
  });
});
