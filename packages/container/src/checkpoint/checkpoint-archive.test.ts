import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { InvalidArgumentError } from '@crikit/core';
import { archiveMembers } from './archive-fixtures.js';
import { directoryEntries, memberName, readJsonMember, writeArchive } from './checkpoint-archive.js';

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'crikit-archive-test-'));
after(() => fs.rm(tmp, { recursive: true, force: true }));


test('writeArchive writes bytes, files, streams and directories that readArchive reads back in order', async () => {
  const images = path.join(tmp, 'images');
  await fs.mkdir(path.join(images, 'nested'), { recursive: true });
  await fs.writeFile(path.join(images, 'pages-1.img'), 'pages');
  await fs.writeFile(path.join(images, 'core-1.img'), 'core');
  const loose = path.join(tmp, 'loose.tar');
  await fs.writeFile(loose, 'layer bytes');
  const target = path.join(tmp, 'round-trip.tar');
  await writeArchive(target, [
    { name: 'config.dump', data: Buffer.from('{"id":"c1"}') },
    ...await directoryEntries(images, 'checkpoint'),
    { name: 'rootfs-diff.tar', file: loose, size: 11 },
    { name: 'streamed', size: 6, open: () => Readable.from([Buffer.from('abc'), Buffer.from('def')]) },
  ], AbortSignal.timeout(10_000));
  const seen = await archiveMembers(target);
  assert.deepEqual([...seen.keys()], ['config.dump', 'checkpoint/core-1.img', 'checkpoint/pages-1.img', 'rootfs-diff.tar', 'streamed']);
  assert.equal(seen.get('checkpoint/pages-1.img'), 'pages');
  assert.equal(seen.get('rootfs-diff.tar'), 'layer bytes');
  assert.equal(seen.get('streamed'), 'abcdef');
  // Only the archive is left: the temporary name it was written under was renamed.
  assert.deepEqual((await fs.readdir(tmp)).filter(n => n.startsWith('round-trip')), ['round-trip.tar']);
});

test('writeArchive leaves nothing at the target when a member fails', async () => {
  const target = path.join(tmp, 'failed.tar');
  await assert.rejects(writeArchive(target, [
    { name: 'config.dump', data: Buffer.from('{}') },
    { name: 'missing', file: path.join(tmp, 'no-such-file'), size: 3 },
  ], AbortSignal.timeout(10_000)));
  assert.deepEqual((await fs.readdir(tmp)).filter(n => n.startsWith('failed')), []);
});

test('readArchive refuses a file that is not a tar archive, naming it', async () => {
  const bogus = path.join(tmp, 'bogus.tar');
  await fs.writeFile(bogus, Buffer.alloc(1024, 7));
  await assert.rejects(archiveMembers(bogus), (err: unknown) => err instanceof InvalidArgumentError && err.message.includes(bogus));
});

test('memberName strips ./ and refuses names that leave the archive', () => {
  assert.equal(memberName('a.tar', './checkpoint/pages-1.img'), 'checkpoint/pages-1.img');
  assert.equal(memberName('a.tar', 'checkpoint/'), 'checkpoint');
  assert.throws(() => memberName('a.tar', '../etc/passwd'), InvalidArgumentError);
  assert.throws(() => memberName('a.tar', 'checkpoint/../../x'), InvalidArgumentError);
  assert.throws(() => memberName('a.tar', '/etc/passwd'), InvalidArgumentError);
});

test('readJsonMember refuses what is not JSON and what is too large', async () => {
  assert.deepEqual(await readJsonMember('a.tar', 'config.dump', 9, Readable.from([Buffer.from('{"id":1}')])), { id: 1 });
  await assert.rejects(readJsonMember('a.tar', 'config.dump', 4, Readable.from([Buffer.from('nope')])), /config.dump is not JSON/);
  await assert.rejects(readJsonMember('a.tar', 'spec.dump', 64 * 1024 * 1024, Readable.from([])), /spec.dump is 67108864 bytes/);
});
