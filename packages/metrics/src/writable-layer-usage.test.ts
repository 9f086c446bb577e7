import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NotFoundError, silentLogger } from '@crikit/core';
import { FakeContainerd } from '@crikit/core/testing';
import { metricsConfigSchema } from './metrics-config.js';
import { WritableLayerUsage } from './writable-layer-usage.js';

const signal = new AbortController().signal;
const settle = () => new Promise(resolve => setImmediate(resolve));

test('a layer is measured once, then a stale figure answers at once while it is measured again in the background', async () => {
  let size = 100n;
  const containerd = new FakeContainerd().handle('snapshots.usage', req => {
    if (req.key === 'gone') throw new NotFoundError('snapshot gone');
    return { size, inodes: 1n };
  });
  const layers = new WritableLayerUsage(containerd, 'overlayfs', metricsConfigSchema.parse({ writableLayerCacheMs: 0 }), silentLogger);
  const first = await layers.usage(['c1', 'gone'], signal);
  assert.equal(first.get('c1')?.usedBytes, 100n);
  assert.equal(first.get('gone'), undefined, 'no snapshot, no figure');
  size = 200n;
  assert.equal((await layers.usage(['c1'], signal)).get('c1')?.usedBytes, 100n, 'the stale figure, without waiting');
  await settle();
  assert.equal((await layers.usage(['c1'], signal)).get('c1')?.usedBytes, 200n, 'the background measurement landed');
  assert.deepEqual(containerd.requestsTo('snapshots.usage').map(r => [r.snapshotter, r.key]).slice(0, 2), [['overlayfs', 'c1'], ['overlayfs', 'gone']]);
});

test('within writableLayerCacheMs nothing is measured again; the mountpoint comes from introspection once', async () => {
  const containerd = new FakeContainerd()
    .handle('snapshots.usage', () => ({ size: 1n, inodes: 1n }))
    .handle('introspection.plugins', () => ({ plugins: [{ exports: { root: '/var/lib/c/overlayfs' } }] }));
  const layers = new WritableLayerUsage(containerd, 'overlayfs', metricsConfigSchema.parse({}), silentLogger);
  await layers.usage(['c1'], signal);
  await layers.usage(['c1'], signal);
  await settle();
  assert.equal(containerd.requestsTo('snapshots.usage').length, 1);
  assert.equal(await layers.mountpoint(signal), '/var/lib/c/overlayfs');
  assert.equal(await layers.mountpoint(signal), '/var/lib/c/overlayfs');
  assert.deepEqual(containerd.requestsTo('introspection.plugins').map(r => r.filters), [['type==io.containerd.snapshotter.v1,id==overlayfs']]);
});
