import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { shiftOwnership } from './shift-ownership.js';

const dirs: string[] = [];
after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

const tree = (): string => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ck-shift-'));
  dirs.push(root);
  fs.mkdirSync(path.join(root, 'bin'));
  fs.writeFileSync(path.join(root, 'bin', 'tool'), 'x', { mode: 0o755 });
  fs.linkSync(path.join(root, 'bin', 'tool'), path.join(root, 'bin', 'alias'));
  fs.writeFileSync(path.join(root, 'bin', 'su'), 'y');
  fs.chmodSync(path.join(root, 'bin', 'su'), 0o4755);
  fs.mkdirSync(path.join(root, 'home'));
  fs.mkdirSync(path.join(root, 'home', 'app'));
  fs.chownSync(path.join(root, 'home', 'app'), 1000, 1001);
  // A link to a host file: shifting must change the link, never its target.
  fs.symlinkSync('/etc/hostname', path.join(root, 'host-link'));
  return root;
};

test('shiftOwnership adds the offsets to every owner once, keeps setuid bits, never follows links (as root)', async () => {
  const root = tree();
  const hostOwner = fs.statSync('/etc/hostname');
  const report = await shiftOwnership(root, 100_000, 200_000, new AbortController().signal);
  const owner = (p: string) => { const s = fs.lstatSync(path.join(root, p)); return [s.uid, s.gid]; };
  assert.deepEqual(owner('.'), [100_000, 200_000]);
  // A hard-linked file is one inode: shifted once, not once per name.
  assert.deepEqual(owner('bin/tool'), [100_000, 200_000]);
  assert.deepEqual(owner('bin/alias'), [100_000, 200_000]);
  assert.deepEqual(owner('home/app'), [101_000, 201_001]);
  assert.deepEqual(owner('host-link'), [100_000, 200_000]);
  assert.deepEqual([fs.statSync('/etc/hostname').uid, fs.statSync('/etc/hostname').gid], [hostOwner.uid, hostOwner.gid]);
  assert.equal(fs.statSync(path.join(root, 'bin', 'su')).mode & 0o7777, 0o4755);
  // root, bin, tool (2 names), su, home, app, host-link.
  assert.equal(report.inodes, 7);
});

test('shiftOwnership stops when the signal fires', async () => {
  const stop = new AbortController();
  stop.abort(new Error('stopped'));
  await assert.rejects(shiftOwnership(tree(), 1, 1, stop.signal), /stopped/);
});
