// LayerUnpacker against a fake containerd whose GC runs right after each snapshot Stat and takes every
// committed snapshot no lease holds: a layer found present must stay present for the layer above it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NotFoundError, silentLogger } from '@crikit/core';
import { digestOf, FakeContainerd } from '@crikit/core/testing';
import { chainIds } from './chain-id.js';
import { LayerUnpacker } from './layer-unpacker.js';

test('a layer snapshot found present is held by the pull\'s lease, so a GC racing the pull cannot take it from under the next layer', async () => {
  const layers = [0, 1, 2].map(i => ({ blob: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf(`blob ${i}`), size: 10 }, diffId: digestOf(`diff ${i}`) }));
  const chain = chainIds(layers.map(l => l.diffId));
  // What a removed image left: its bottom layer's snapshot, referenced by nothing.
  const committed = new Set([chain[0]!]);
  const held = new Set<string>();
  const containerd = new FakeContainerd();
  containerd.handle('leases.addResource', req => { held.add(req.resource!.id); return {}; });
  containerd.handle('snapshots.stat', req => {
    const found = committed.has(req.key);
    for (const name of [...committed]) if (!held.has(name)) committed.delete(name);
    if (!found) throw new NotFoundError(`snapshot ${req.key}`);
    return { info: { name: req.key } };
  });
  containerd.handle('snapshots.prepare', req => {
    if (req.parent !== '' && !committed.has(req.parent)) throw new NotFoundError(`parent snapshot ${req.parent} does not exist`);
    return { mounts: [] };
  });
  let applied = 0;
  containerd.handle('diff.apply', () => ({ applied: { digest: layers[1 + applied++]!.diffId } }));
  containerd.handle('snapshots.commit', req => { committed.add(req.name); held.add(req.name); return {}; });
  const unpacker = new LayerUnpacker(containerd, 'overlayfs', silentLogger);
  assert.deepEqual(await unpacker.unpack(layers, { lease: 'pull-1', signal: AbortSignal.timeout(5_000), what: 'pull test' }), chain);
  assert.equal(applied, 2, 'the bottom layer was reused, the two above applied');
  assert.deepEqual(containerd.requestsTo('leases.addResource').map(r => [r.id, r.resource!.type]), chain.map(() => ['pull-1', 'snapshots/overlayfs']));
});
