// /etc/passwd and /etc/group are read inside the image's root file system, never through it onto
// the host: links resolve within the rootfs, only regular files are read, and their size is capped.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { readUserDbAt } from './rootfs-user-db.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'crikit-rootfs-user-db-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const hostSecret = path.join(tmp, 'host-secret');
fs.writeFileSync(hostSecret, 'root:x:0:0:host secret:/root:/bin/sh\n');

let n = 0;
/** A fresh rootfs with /etc, where `make` places the files or links under test. */
function rootfs(make: (root: string) => void): string {
  const root = path.join(tmp, `rootfs-${++n}`);
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  make(root);
  return root;
}

/** Fails instead of hanging when the read blocks. */
function withinSeconds<T>(p: Promise<T>, seconds: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`still reading after ${seconds}s`)), seconds * 1000); });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

test('regular files are read, also through links that stay inside the rootfs', async () => {
  const root = rootfs(r => {
    fs.mkdirSync(path.join(r, 'usr/lib'), { recursive: true });
    fs.writeFileSync(path.join(r, 'usr/lib/passwd'), 'app:x:1000:1000::/home/app:/bin/sh\n');
    fs.symlinkSync('/usr/lib/passwd', path.join(r, 'etc/passwd'));
    fs.writeFileSync(path.join(r, 'etc/group'), 'app:x:1000:\n');
  });
  const db = await readUserDbAt(root);
  assert.equal(db.passwd, 'app:x:1000:1000::/home/app:/bin/sh\n');
  assert.equal(db.group, 'app:x:1000:\n');
});

test('an absolute link to a host file resolves inside the rootfs and leaks nothing', async () => {
  const root = rootfs(r => fs.symlinkSync(hostSecret, path.join(r, 'etc/passwd')));
  const db = await readUserDbAt(root);
  assert.equal(db.passwd, undefined);
});

test('a relative link climbing out with .. is clamped at the rootfs', async () => {
  const root = rootfs(r => {
    fs.symlinkSync(`../../../../../../../..${hostSecret}`, path.join(r, 'etc/passwd'));
    fs.mkdirSync(path.join(r, 'etc/sub'));
    fs.symlinkSync('../../../../../../../../..', path.join(r, 'etc/sub/up'));
    fs.symlinkSync(`sub/up${hostSecret}`, path.join(r, 'etc/group'));
  });
  const db = await readUserDbAt(root);
  assert.equal(db.passwd, undefined);
  assert.equal(db.group, undefined);
});

test('links to /dev/kmsg and /dev/zero neither block nor exhaust memory', async () => {
  const root = rootfs(r => {
    fs.symlinkSync('/dev/kmsg', path.join(r, 'etc/passwd'));
    fs.symlinkSync('/dev/zero', path.join(r, 'etc/group'));
  });
  const db = await withinSeconds(readUserDbAt(root), 5);
  assert.equal(db.passwd, undefined);
  assert.equal(db.group, undefined);
});

test('device nodes, FIFOs and directories in the rootfs are not read', async () => {
  const root = rootfs(r => {
    // The image itself may carry device nodes (a layer can hold them) and FIFOs.
    execFileSync('mknod', [path.join(r, 'etc/passwd'), 'c', '1', '5']);   // /dev/zero's numbers
    execFileSync('mkfifo', [path.join(r, 'etc/group')]);
  });
  const db = await withinSeconds(readUserDbAt(root), 5);
  assert.equal(db.passwd, undefined);
  assert.equal(db.group, undefined);
  const dir = rootfs(r => fs.mkdirSync(path.join(r, 'etc/passwd')));
  assert.equal((await readUserDbAt(dir)).passwd, undefined);
});

test('a file over 1 MiB is not read; a link loop does not spin', async () => {
  const root = rootfs(r => {
    fs.writeFileSync(path.join(r, 'etc/passwd'), Buffer.alloc(1024 * 1024 + 1, 'a'));
    fs.symlinkSync('group', path.join(r, 'etc/group'));
  });
  const db = await withinSeconds(readUserDbAt(root), 5);
  assert.equal(db.passwd, undefined);
  assert.equal(db.group, undefined);
});
