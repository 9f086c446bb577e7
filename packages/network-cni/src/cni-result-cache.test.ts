import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { silentLogger } from '@crikit/core';
import { CniResultCache } from './cni-result-cache.js';

const network = { name: 'net', cniVersion: '1.0.0', plugins: [{ type: 'bridge' }], raw: { name: 'net', plugins: [{ type: 'bridge' }] } };
const entry = (containerId: string, ifName = 'eth0', name = 'net') => ({
  network: { ...network, name }, containerId, ifName, netns: `/run/ns/${containerId}`, args: 'IgnoreUnknown=1',
  capabilityArgs: { portMappings: [] }, result: { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }] },
});

describe('CniResultCache', () => {
  let root: string;
  let cache: CniResultCache;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'crikit-cni-cache-'));
    cache = new CniResultCache({ rootDir: root, stateDir: path.join(root, 'state') }, silentLogger);
  });
  afterEach(() => fs.rm(root, { recursive: true, force: true }));

  it('keeps one entry per network, container and ifname under <rootDir>/cni/results, readable by a new instance', async () => {
    assert.equal(cache.dir, path.join(root, 'cni', 'results'));
    await cache.put(entry('aaa'));
    await cache.put(entry('aaa', 'net1'));
    await cache.put(entry('aaa', 'eth0', 'other'));
    await cache.put(entry('bbb'));
    assert.deepEqual((await fs.readdir(cache.dir)).sort(), ['net-aaa-eth0', 'net-aaa-net1', 'net-bbb-eth0', 'other-aaa-eth0']);
    const again = new CniResultCache({ rootDir: root, stateDir: root }, silentLogger);
    const got = await again.get('net', 'aaa', 'eth0');
    assert.deepEqual({ ...got, createdAt: undefined }, { version: 1, ...entry('aaa'), createdAt: undefined });
    assert.deepEqual((await again.find('aaa', 'eth0')).map(e => e.network.name).sort(), ['net', 'other']);
    assert.equal((await again.list()).length, 4);
  });

  it('returns nothing for a missing dir or entry, ignores undecodable entries, and deletes idempotently', async () => {
    assert.equal(await cache.get('net', 'aaa', 'eth0'), undefined);
    assert.deepEqual(await cache.find('aaa', 'eth0'), []);
    await cache.put(entry('aaa'));
    await fs.writeFile(path.join(cache.dir, 'net-bbb-eth0'), '{"version":1,"broken":');
    assert.deepEqual(await cache.find('bbb', 'eth0'), []);
    assert.equal((await cache.list()).length, 1);
    await cache.delete('net', 'aaa', 'eth0');
    await cache.delete('net', 'aaa', 'eth0');
    assert.equal(await cache.get('net', 'aaa', 'eth0'), undefined);
  });

  it('keeps names with a slash in one path segment', async () => {
    await cache.put(entry('aaa', 'eth0', 'a/b'));
    assert.deepEqual(await fs.readdir(cache.dir), ['a%2Fb-aaa-eth0']);
    assert.equal((await cache.get('a/b', 'aaa', 'eth0'))?.network.name, 'a/b');
  });
});
