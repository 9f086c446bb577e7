import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readTar } from './tar-reader.js';
import { tarChunks, writeTar, type TarEntry } from './tar-writer.js';

const work = mkdtempSync(join(tmpdir(), 'testkit-tar-'));
after(() => rmSync(work, { recursive: true, force: true }));

// 60 × "dir/" + name: longer than 100 bytes, but splits into ustar prefix + name.
const prefixPath = `${'dir/'.repeat(30)}${'deep-'.repeat(4)}file.txt`;
// A component longer than both the name (100) and prefix (155) fields: only PAX can carry it.
const paxPath = `top/${'p'.repeat(160)}/leaf.txt`;
const longTarget = `../${'t'.repeat(120)}`;

const entries: TarEntry[] = [
  { type: 'directory', path: '/etc' },
  { type: 'file', path: '/etc/hello', data: 'hello world\n', mode: 0o640, uid: 1000, gid: 2000, uname: 'app', gname: 'extra' },
  { type: 'directory', path: 'tmp', mode: 0o1777 },
  { type: 'file', path: prefixPath, data: Buffer.from([0, 1, 2, 3, 255]) },
  { type: 'file', path: paxPath, data: 'pax\n' },
  { type: 'symlink', path: 'etc/link', target: 'hello' },
  { type: 'symlink', path: 'etc/far-link', target: longTarget },
  { type: 'hardlink', path: 'etc/hard', target: '/etc/hello' },
  { type: 'file', path: 'big.bin', data: Buffer.alloc(1500, 7), mode: 0o755 },
];

describe('writeTar and readTar (tar-stream)', () => {
  it('round-trips through readTar', async () => {
    const tar = await writeTar(entries);
    assert.equal(tar.length % 512, 0);
    const read = await readTar(tar);
    assert.deepEqual(read.map(e => [e.path, e.type]), [
      ['etc', 'directory'], ['etc/hello', 'file'], ['tmp', 'directory'], [prefixPath, 'file'], [paxPath, 'file'],
      ['etc/link', 'symlink'], ['etc/far-link', 'symlink'], ['etc/hard', 'hardlink'], ['big.bin', 'file'],
    ]);
    const hello = read[1]!;
    assert.equal(hello.data.toString(), 'hello world\n');
    assert.equal(hello.mode, 0o640);
    assert.deepEqual([hello.uid, hello.gid, hello.uname, hello.gname, hello.mtime], [1000, 2000, 'app', 'extra', 0]);
    assert.equal(read[2]!.mode, 0o1777);
    assert.deepEqual([...read[3]!.data], [0, 1, 2, 3, 255]);
    assert.equal(read[4]!.data.toString(), 'pax\n');
    assert.equal(read[5]!.linkTarget, 'hello');
    assert.equal(read[6]!.linkTarget, longTarget);
    assert.equal(read[7]!.linkTarget, 'etc/hello');
    assert.deepEqual(read[8]!.data, Buffer.alloc(1500, 7));
    assert.equal(read[8]!.mode, 0o755);
  });

  it('uses the ustar prefix field for a long name that splits and PAX for one that does not', async () => {
    const tar = await writeTar(entries);
    const headers = rawHeaders(tar);
    // etc, hello, tmp, prefixPath (no PAX), PAX + paxPath, symlink, PAX + far-link, hardlink, big.bin
    assert.deepEqual(headers.map(h => h.typeflag), ['5', '0', '5', '0', 'x', '0', '2', 'x', '2', '1', '0']);
    // prefix + '/' + name is the path, each within its field, split at a '/'.
    const prefixHeader = headers[3]!.block;
    const name = prefixHeader.toString('ascii', 0, 100).replace(/\0.*$/s, '');
    const prefix = prefixHeader.toString('ascii', 345, 500).replace(/\0.*$/s, '');
    assert.ok(name.length <= 100 && prefix.length > 0 && prefix.length <= 155, `name ${name.length}, prefix ${prefix.length} bytes`);
    assert.equal(`${prefix}/${name}`, prefixPath);
    assert.match(headers[4]!.data.toString('utf8'), new RegExp(`^\\d+ path=${paxPath}\n$`));
  });

  it('is deterministic', async () => {
    assert.deepEqual(await writeTar(entries), await writeTar(entries));
  });

  it('writes an archive that GNU tar lists and extracts', async () => {
    const file = join(work, 'roundtrip.tar');
    writeFileSync(file, await writeTar(entries));
    const listing = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(listing.length, entries.length);
    assert.match(listing[1]!, /^-rw-r----- app\/extra\s+12 1970-01-01 00:00 etc\/hello$/);
    assert.ok(listing.some(l => l.endsWith(` ${prefixPath}`)), 'long ustar-prefix name listed');
    assert.ok(listing.some(l => l.endsWith(` ${paxPath}`)), 'long PAX name listed');
    assert.ok(listing.some(l => l.startsWith('l') && l.endsWith('etc/link -> hello')), 'symlink listed');
    assert.ok(listing.some(l => l.startsWith('h') && l.endsWith('etc/hard link to etc/hello')), 'hardlink listed');

    const out = join(work, 'extracted');
    execFileSync('mkdir', ['-p', out]);
    execFileSync('tar', ['-xf', file, '-C', out]);
    assert.deepEqual(readFileSync(join(out, prefixPath)), Buffer.from([0, 1, 2, 3, 255]));
    assert.equal(readFileSync(join(out, paxPath), 'utf8'), 'pax\n');
    assert.equal(readlinkSync(join(out, 'etc/link')), 'hello');
    assert.equal(statSync(join(out, 'etc/hard')).ino, statSync(join(out, 'etc/hello')).ino);
  });

  it('reads what GNU tar writes, including its long-name records', async () => {
    const src = join(work, 'gnu-src');
    const deep = join(src, 'x'.repeat(110));
    execFileSync('mkdir', ['-p', deep]);
    writeFileSync(join(deep, 'f'), 'gnu');
    for (const format of ['gnu', 'pax']) {
      const tar = execFileSync('tar', [`--format=${format}`, '-cf', '-', '-C', src, '.']);
      const file = (await readTar(tar)).find(e => e.path === `${'x'.repeat(110)}/f`);
      assert.ok(file, `${format}: long path found`);
      assert.equal(file.data.toString(), 'gnu');
    }
  });

  it('refuses a hard link to a file not written before it', async () => {
    await assert.rejects(writeTar([{ type: 'hardlink', path: 'a', target: 'b' }]), /not written before it/);
  });

  it('rejects a corrupted header', async () => {
    const tar = await writeTar([{ type: 'file', path: 'a', data: 'x' }]);
    tar[0] = 'b'.charCodeAt(0);
    await assert.rejects(readTar(tar), /Invalid tar header/);
  });

  it('streams a file from chunks, and refuses content that does not match its size', async () => {
    async function* abc(): AsyncGenerator<Buffer> { yield Buffer.from('ab'); yield Buffer.from('c'); }
    const chunks: Buffer[] = [];
    for await (const chunk of tarChunks([{ type: 'streamed-file', path: 'stream.bin', size: 3, content: abc() }])) chunks.push(chunk);
    const [entry] = await readTar(Buffer.concat(chunks));
    assert.equal(entry?.path, 'stream.bin');
    assert.equal(entry?.data.toString(), 'abc');
    await assert.rejects(writeTar([{ type: 'streamed-file', path: 'short', size: 4, content: abc() }]), /3 bytes, not its size 4/);
    await assert.rejects(writeTar([{ type: 'streamed-file', path: 'long', size: 2, content: abc() }]), /longer than its size 2/);
  });
});

/** Every header block, PAX headers included, with its typeflag and content, walking the archive by sizes. */
function rawHeaders(tar: Buffer): { typeflag: string; block: Buffer; data: Buffer }[] {
  const headers: { typeflag: string; block: Buffer; data: Buffer }[] = [];
  let offset = 0;
  while (offset < tar.length && tar[offset] !== 0) {
    const typeflag = String.fromCharCode(tar[offset + 156]!);
    const size = typeflag === '0' || typeflag === 'x' ? parseInt(tar.toString('ascii', offset + 124, offset + 135), 8) : 0;
    headers.push({ typeflag, block: tar.subarray(offset, offset + 512), data: tar.subarray(offset + 512, offset + 512 + size) });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return headers;
}
