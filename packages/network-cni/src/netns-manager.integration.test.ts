/**
 * PinnedNetnsManager against the real kernel and util-linux: needs root, `unshare`, `nsenter`,
 * `mount`/`umount` and iproute2's `ip`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AlreadyExistsError, InvalidArgumentError, silentLogger } from '@crikit/core';
import { PinnedNetnsManager } from './netns-manager.js';
import { requireHostTools } from './testing/require-host-tools.js';

const signal = (): AbortSignal => AbortSignal.timeout(30_000);
const mountinfo = (): Promise<string> => fs.readFile('/proc/self/mountinfo', 'utf8');

describe('PinnedNetnsManager (real namespaces)', () => {
  let stateDir: string;
  let manager: PinnedNetnsManager;

  before(async () => {
    requireHostTools(['unshare', 'nsenter', 'mount', 'umount', 'ip'], 'apt-get install util-linux mount iproute2');
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'crikit-netns-'));
    manager = new PinnedNetnsManager({ rootDir: stateDir, stateDir }, silentLogger);
  });

  after(async () => {
    for (const p of await manager.list()) await manager.remove(p, signal());
    // The private bind mount of the netns dir outlives the manager, as /run/netns does for `ip netns`.
    if ((await mountinfo()).includes(` ${manager.dir} `)) execFileSync('umount', [manager.dir]);
    await fs.rm(stateDir, { recursive: true, force: true });
  });

  it('creates a namespace pinned at <stateDir>/netns/<name> holding only a down lo', async () => {
    const file = await manager.create('pod-a', signal());
    assert.equal(file, path.join(stateDir, 'netns', 'pod-a'));
    const links = execFileSync('nsenter', [`--net=${file}`, 'ip', '-o', 'link'], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(links.length, 1);
    assert.match(links[0]!, /^1: lo: <LOOPBACK>/);
    assert.equal(await manager.exists(file), true);
    assert.match(await mountinfo(), new RegExp(` ${file} rw[^\\n]* - nsfs `));
    // The dir is a private mount, so pins do not propagate to peer mount namespaces.
    const dirLine = (await mountinfo()).split('\n').find(l => l.split(' ')[4] === manager.dir);
    assert.ok(dirLine && !/ shared:/.test(dirLine), dirLine);
  });

  it('gives every pod its own namespace, different from the host\'s', async () => {
    const a = path.join(manager.dir, 'pod-a');
    const b = await manager.create('pod-b', signal());
    const inode = async (p: string): Promise<number> => (await fs.stat(p)).ino;
    assert.notEqual(await inode(a), await inode(b));
    assert.notEqual(await inode(b), await inode('/proc/self/ns/net'));
    assert.deepEqual(await manager.list(), [a, b]);
  });

  it('refuses a second pin of the same name, and names that are not plain file names', async () => {
    await assert.rejects(manager.create('pod-a', signal()), AlreadyExistsError);
    await assert.rejects(manager.create('../escape', signal()), InvalidArgumentError);
    await assert.rejects(manager.create('', signal()), InvalidArgumentError);
  });

  it('reuses a leftover file that pins nothing', async () => {
    const file = path.join(manager.dir, 'pod-c');
    await fs.writeFile(file, '');
    assert.equal(await manager.exists(file), false);
    assert.equal(await manager.create('pod-c', signal()), file);
    assert.equal(await manager.exists(file), true);
  });

  it('removes idempotently: no mount and no file left', async () => {
    const file = path.join(manager.dir, 'pod-a');
    await manager.remove(file, signal());
    assert.ok(!(await mountinfo()).includes(` ${file} `), 'still mounted');
    await assert.rejects(fs.stat(file), { code: 'ENOENT' });
    assert.equal(await manager.exists(file), false);
    await manager.remove(file, signal());
    await manager.remove(path.join(manager.dir, 'never-created'), signal());
  });

  it('refuses to unmount something that is not a namespace', async () => {
    await assert.rejects(manager.remove(manager.dir, signal()), InvalidArgumentError);
  });
});
