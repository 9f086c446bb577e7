// ContainerdRemappedSnapshots against a fake containerd whose snapshots are plain dirs handed out as
// bind mounts: the copy, the shift, the commit and the sweep run for real (as root), containerd not.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { snapshots } from '@crikit/api';
import { DirectProcessRunner, FailedPreconditionError, NotFoundError, RuntimeEventBus, silentLogger, UnavailableError } from '@crikit/core';
import { FakeContainerd } from '@crikit/core/testing';
import { ContainerdRemappedSnapshots, GID_MAPPING_LABEL, REMAPPED_LABEL, UID_MAPPING_LABEL } from './remapped-snapshots.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ck-remap-test-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
const signal = new AbortController().signal;
const USERNS = { uids: { containerId: 0, hostId: 100_000, length: 65536 }, gids: { containerId: 0, hostId: 200_000, length: 65536 } };
const COPY = `sha256:img-${USERNS.uids.hostId}-${USERNS.gids.hostId}`;

/** An image dir, and a fake containerd whose snapshots are dirs under `root`. */
function setup(n: number) {
  const dir = path.join(root, String(n));
  const image = path.join(dir, 'image');
  fs.mkdirSync(path.join(image, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(image, 'bin', 'busybox'), 'x', { mode: 0o755 });
  fs.linkSync(path.join(image, 'bin', 'busybox'), path.join(image, 'bin', 'sh'));
  fs.mkdirSync(path.join(image, 'home', 'app'), { recursive: true });
  fs.chownSync(path.join(image, 'home', 'app'), 1000, 1000);
  const containerd = new FakeContainerd();
  // name -> its dir, kind, parent and labels
  const table = new Map<string, { dir: string; kind: snapshots.Kind; parent: string; labels: Record<string, string> }>();
  table.set('sha256:img', { dir: image, kind: snapshots.Kind.COMMITTED, parent: '', labels: {} });
  const bind = (source: string, ro: boolean) => ({ mounts: [{ type: 'bind', source, options: [ro ? 'ro' : 'rw', 'rbind'] }] });
  const info = (name: string) => { const s = table.get(name)!; return { name, parent: s.parent, kind: s.kind, labels: s.labels }; };
  containerd.handle('leases.create', req => ({ lease: { id: req.id } }));
  containerd.handle('leases.delete', () => ({}));
  containerd.handle('snapshots.stat', req => {
    if (!table.has(req.key)) throw new NotFoundError(`snapshot ${req.key}`);
    return { info: info(req.key) };
  });
  containerd.handle('snapshots.view', req => {
    table.set(req.key, { dir: table.get(req.parent)!.dir, kind: snapshots.Kind.VIEW, parent: req.parent, labels: req.labels });
    return bind(table.get(req.parent)!.dir, true);
  });
  containerd.handle('snapshots.prepare', req => {
    if (req.parent && !table.has(req.parent)) throw new NotFoundError(`parent snapshot ${req.parent}`);
    const own = path.join(dir, 'snapshots', req.key.replaceAll(':', '_'));
    fs.mkdirSync(own, { recursive: true });
    table.set(req.key, { dir: own, kind: snapshots.Kind.ACTIVE, parent: req.parent, labels: req.labels });
    return bind(own, false);
  });
  containerd.handle('snapshots.commit', req => {
    const work = table.get(req.key)!;
    table.delete(req.key);
    table.set(req.name, { ...work, kind: snapshots.Kind.COMMITTED, labels: req.labels });
    return {};
  });
  containerd.handle('snapshots.remove', req => {
    if (!table.has(req.key)) throw new NotFoundError(`snapshot ${req.key}`);
    if ([...table.values()].some(s => s.parent === req.key)) throw new FailedPreconditionError(`cannot remove snapshot with child`);
    table.delete(req.key);
    return {};
  });
  containerd.handle('snapshots.list', req => {
    const label = /^labels\."(.+)"$/.exec(req.filters[0] ?? '')?.[1];
    return [{ info: [...table.keys()].filter(k => !label || label in table.get(k)!.labels).map(info) }];
  });
  const remapped = new ContainerdRemappedSnapshots(containerd, 'overlayfs', new RuntimeEventBus(silentLogger), { rootDir: path.join(dir, 'root'), stateDir: path.join(dir, 'state') }, silentLogger, new DirectProcessRunner());
  const calls = (method: string) => containerd.calls.filter(c => c.method === method).length;
  return { containerd, table, remapped, calls, dir };
}

describe('ContainerdRemappedSnapshots', () => {
  it('copies the image once for concurrent prepares, every owner shifted, hard links kept, and labels each rootfs', async () => {
    const { table, remapped, calls } = setup(1);
    await Promise.all(['c1', 'c2'].map(key => remapped.prepare({ key, parent: 'sha256:img', userns: USERNS }, signal)));
    assert.equal(calls('snapshots.commit'), 1);
    const copy = table.get(COPY)!;
    assert.equal(copy.kind, snapshots.Kind.COMMITTED);
    assert.deepEqual(copy.labels, { [REMAPPED_LABEL]: 'sha256:img' });
    const owner = (p: string) => { const s = fs.lstatSync(path.join(copy.dir, p)); return [s.uid, s.gid]; };
    assert.deepEqual(owner('bin/busybox'), [100_000, 200_000]);
    assert.deepEqual(owner('home/app'), [101_000, 201_000]);
    assert.deepEqual(owner('.'), [100_000, 200_000]);
    assert.equal(fs.statSync(path.join(copy.dir, 'bin', 'sh')).ino, fs.statSync(path.join(copy.dir, 'bin', 'busybox')).ino, 'hard links stay links');
    for (const key of ['c1', 'c2']) {
      assert.equal(table.get(key)!.parent, COPY);
      assert.deepEqual(table.get(key)!.labels, { [UID_MAPPING_LABEL]: '0:100000:65536', [GID_MAPPING_LABEL]: '0:200000:65536' });
    }
    // The view and the work snapshot are gone; the image is untouched.
    assert.deepEqual([...table.keys()].sort(), ['c1', 'c2', COPY, 'sha256:img'].sort());
    assert.equal(fs.statSync(path.join(table.get('sha256:img')!.dir, 'bin', 'busybox')).uid, 0);
  });

  it('removes a copy only once no rootfs is prepared on it, and then sweeps without calls', async () => {
    const { table, remapped, calls } = setup(2);
    await remapped.prepare({ key: 'c1', parent: 'sha256:img', userns: USERNS }, signal);
    await remapped.removeUnused(signal);
    assert.ok(table.has(COPY), 'in use: kept');
    table.delete('c1');
    await remapped.removeUnused(signal);
    assert.equal(table.has(COPY), false);
    const lists = calls('snapshots.list');
    await remapped.removeUnused(signal);
    assert.equal(calls('snapshots.list'), lists, 'nothing left and nothing made since: no list');
  });

  it('makes the copy again when it went between the check and the prepare', async () => {
    const { containerd, table, remapped, calls } = setup(3);
    await remapped.prepare({ key: 'c1', parent: 'sha256:img', userns: USERNS }, signal);
    table.delete('c1');
    // The check finds the copy; a sweep removes it right after, before the rootfs is prepared on it.
    let swept = false;
    containerd.handle('snapshots.stat', req => {
      if (!table.has(req.key)) throw new NotFoundError(`snapshot ${req.key}`);
      const found = { info: { name: req.key, parent: '', kind: snapshots.Kind.COMMITTED, labels: {} } };
      if (req.key === COPY && !swept) { swept = true; table.delete(COPY); }
      return found;
    });
    await remapped.prepare({ key: 'c2', parent: 'sha256:img', userns: USERNS }, signal);
    assert.ok(swept);
    assert.equal(table.get('c2')!.parent, COPY);
    assert.equal(calls('snapshots.commit'), 2);
  });

  it('leaves nothing behind when the copy fails', async () => {
    const { containerd, table, remapped, calls } = setup(4);
    containerd.failNext('snapshots.commit', new UnavailableError('containerd went away'));
    await assert.rejects(remapped.prepare({ key: 'c1', parent: 'sha256:img', userns: USERNS }, signal), UnavailableError);
    assert.deepEqual([...table.keys()], ['sha256:img']);
    assert.equal(calls('leases.delete'), 1);
    assert.equal(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(`${root}/4/state`), false, 'nothing left mounted');
  });
});
