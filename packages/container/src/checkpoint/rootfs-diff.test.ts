import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { pack as tarPack, type Header } from 'tar-stream';
import { InvalidArgumentError } from '@crikit/core';
import { applyLayer, removeInRoot } from './rootfs-diff.js';

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'crikit-rootfs-diff-test-'));
after(() => fs.rm(tmp, { recursive: true, force: true }));

/** A layer tar of `members` (a header, and the data of a file). */
async function layer(members: ReadonlyArray<Partial<Header> & { name: string; data?: string }>): Promise<Buffer> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  const done = (async () => { for await (const c of pack) chunks.push(c as Buffer); })();
  for (const { data, ...h } of members) {
    await new Promise<void>((resolve, reject) => pack.entry({ mode: 0o644, ...h }, data ?? '', err => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function rootWith(name: string, files: Record<string, string>): Promise<string> {
  const root = path.join(tmp, name);
  for (const [file, data] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await fs.writeFile(path.join(root, file), data);
  }
  await fs.mkdir(root, { recursive: true });
  return root;
}

test('applyLayer writes files, directories and links, and honours OCI whiteouts', async () => {
  const root = await rootWith('apply', { 'etc/old.conf': 'old', 'var/cache/a': 'a', 'var/cache/b': 'b', 'keep': 'k' });
  const file = path.join(tmp, 'apply.tar');
  await fs.writeFile(file, await layer([
    { name: 'data/', type: 'directory', mode: 0o750 },
    { name: 'data/count', type: 'file', data: '41\n', mode: 0o600, uid: 1000, gid: 1000 },
    { name: './data/latest', type: 'symlink', linkname: 'count' },
    { name: 'data/again', type: 'link', linkname: 'data/count' },
    { name: 'etc/.wh.old.conf', type: 'file' },
    { name: 'var/cache/.wh..wh..opq', type: 'file' },
    { name: 'var/cache/c', type: 'file', data: 'c' },
  ]));
  const result = await applyLayer(file, root, AbortSignal.timeout(10_000));
  assert.deepEqual(result, { applied: 7, skipped: 0 });
  assert.equal(await fs.readFile(path.join(root, 'data/count'), 'utf8'), '41\n');
  const st = await fs.stat(path.join(root, 'data/count'));
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(st.uid, 1000);
  assert.equal((await fs.stat(path.join(root, 'data'))).mode & 0o777, 0o750);
  assert.equal(await fs.readlink(path.join(root, 'data/latest')), 'count');
  assert.equal((await fs.stat(path.join(root, 'data/again'))).ino, st.ino);
  await assert.rejects(fs.stat(path.join(root, 'etc/old.conf')), { code: 'ENOENT' });
  assert.deepEqual(await fs.readdir(path.join(root, 'var/cache')), ['c']);
  assert.equal(await fs.readFile(path.join(root, 'keep'), 'utf8'), 'k');
});

test('applyLayer reads a gzip layer (as containerd 2.x writes rootfs-diff.tar)', async () => {
  const root = await rootWith('gzip', {});
  const file = path.join(tmp, 'gzip.tar');
  await fs.writeFile(file, gzipSync(await layer([{ name: 'hello', type: 'file', data: 'world' }])));
  await applyLayer(file, root, AbortSignal.timeout(10_000));
  assert.equal(await fs.readFile(path.join(root, 'hello'), 'utf8'), 'world');
});

test('applyLayer never writes outside the root: .. and paths through links are refused', async () => {
  const outside = path.join(tmp, 'outside');
  await fs.mkdir(outside);
  const root = await rootWith('escape', {});
  await fs.symlink(outside, path.join(root, 'link'));
  const through = path.join(tmp, 'through.tar');
  await fs.writeFile(through, await layer([{ name: 'link/owned', type: 'file', data: 'x' }]));
  await assert.rejects(applyLayer(through, root, AbortSignal.timeout(10_000)), InvalidArgumentError);
  const climbing = path.join(tmp, 'climbing.tar');
  await fs.writeFile(climbing, await layer([{ name: '../owned', type: 'file', data: 'x' }]));
  await assert.rejects(applyLayer(climbing, root, AbortSignal.timeout(10_000)), InvalidArgumentError);
  assert.deepEqual(await fs.readdir(outside), []);
  assert.deepEqual(await fs.readdir(tmp).then(n => n.includes('owned')), false);
});

test('applyLayer skips device nodes and FIFOs, counting them', async () => {
  const root = await rootWith('devices', {});
  const file = path.join(tmp, 'devices.tar');
  await fs.writeFile(file, await layer([{ name: 'fifo', type: 'fifo' }, { name: 'ok', type: 'file', data: '1' }]));
  assert.deepEqual(await applyLayer(file, root, AbortSignal.timeout(10_000)), { applied: 1, skipped: 1 });
});

test('removeInRoot removes what deleted.files lists, never through a link or out of the root', async () => {
  const root = await rootWith('deleted', { 'etc/motd': 'hi', 'var/lib/x/y': 'y' });
  const outside = path.join(tmp, 'outside-deleted');
  await fs.mkdir(outside);
  await fs.writeFile(path.join(outside, 'precious'), 'p');
  await fs.symlink(outside, path.join(root, 'link'));
  assert.equal(await removeInRoot(root, '/etc/motd'), true);
  assert.equal(await removeInRoot(root, 'var/lib/x'), true);
  assert.equal(await removeInRoot(root, '/etc/motd'), false, 'already gone');
  assert.equal(await removeInRoot(root, '/link/precious'), false);
  assert.equal(await removeInRoot(root, '/../outside-deleted/precious'), false);
  assert.equal(await fs.readFile(path.join(outside, 'precious'), 'utf8'), 'p');
  assert.deepEqual((await fs.readdir(root)).sort(), ['etc', 'link', 'var']);
  assert.deepEqual(await fs.readdir(path.join(root, 'var/lib')), []);
});
