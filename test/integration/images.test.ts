// The CRI ImageService against the real docker-registry and a private containerd, through the CRI socket.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { writeFileSync } from 'node:fs';
import { chainIds, ImageImporter } from '@crikit/image';
import { ImageService, RuntimeEventBus, type ImagePullProgress } from '@crikit/core';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { busyboxImage, corruptBlobInStorage, multiArchIndex, pushImage, pushIndex, randomLayersImage, type LocalRegistry } from '@crikit/testkit';
import { criClient, type CriClient } from '../support/cri-client.js';
import { tempRuntimeDirs } from '../support/crikitd.js';
import { containerdPeek } from '../support/containerd-peek.js';
import { countingProxy, type CountingProxy } from '../support/counting-proxy.js';
import { startRegistry, writeHostsToml } from '../support/registry-fixture.js';
import { writeDockerSave, writeOciLayout } from '../support/image-archives.js';

const dirs = tempRuntimeDirs();
const hostsDir = path.join(dirs.dir, 'certs.d');
const config = { ...dirs.config, image: { registryConfigDir: hostsDir, pullStallTimeoutMs: 10_000 } };
const socketOfContainerd = path.join(dirs.dir, 'cs', 'containerd.sock');
let runtime: CriRuntime;
let cri: CriClient;
let registry: LocalRegistry;
let proxy: CountingProxy;

async function restart(): Promise<void> {
  cri.close();
  await runtime.stop(AbortSignal.timeout(30_000));
  runtime = createRuntime({ config });
  await runtime.start(AbortSignal.timeout(60_000));
  cri = criClient(runtime.socket);
}

before(async () => {
  registry = await startRegistry(hostsDir);
  proxy = await countingProxy(registry.url);
  writeHostsToml(hostsDir, proxy.host, proxy.url);
  runtime = createRuntime({ config });
  await runtime.start(AbortSignal.timeout(60_000));
  cri = criClient(runtime.socket);
});
after(async () => {
  cri?.close();
  await runtime?.stop(AbortSignal.timeout(30_000));
  await proxy?.close();
  await registry?.stop();
  dirs.cleanup();
});

/** A busybox image with one more layer of its own, so that none of its layers is shared with another test's. */
const uniqueImage = (name: string) => busyboxImage({ extraLayers: [[{ type: 'file', path: `etc/${name}`, data: `${name}\n` }]] });

const pull = (image: string, auth?: Record<string, string>) => cri.image.pullImage({ image: { image }, auth });
const statusOf = async (image: string) => (await cri.image.imageStatus({ image: { image } })).image;

describe('pulls', () => {
  test('by tag: the image id is the config digest; names, size and user are reported', async () => {
    const img = await busyboxImage({ user: '1000' });
    await pushImage({ url: registry.url }, 'library/busybox', img, { tag: '1.0' });
    const ref = `${registry.host}/library/busybox:1.0`;
    const { imageRef } = await pull(ref);
    assert.equal(imageRef, img.config.digest);
    const s = await statusOf(ref);
    assert.equal(s?.id, img.config.digest);
    assert.deepEqual(s?.repoTags, [ref]);
    assert.deepEqual(s?.repoDigests, [`${registry.host}/library/busybox@${img.manifest.digest}`]);
    assert.equal(s?.uid?.value, 1000n);
    assert.ok(Number(s!.size) >= img.layers.reduce((n, l) => n + l.size, 0));
    assert.equal((await statusOf(img.config.digest))?.id, img.config.digest, 'found by id');
    assert.equal((await statusOf(img.config.digest.slice(7, 20)))?.id, img.config.digest, 'found by short id');
    const listed = await cri.image.listImages({});
    assert.ok(listed.images.some(i => i.id === img.config.digest));
    const fs = await cri.image.imageFsInfo({});
    assert.match(fs.imageFilesystems[0]!.fsId!.mountpoint, /io\.containerd\.snapshotter\.v1\.overlayfs$/);
    assert.ok(fs.imageFilesystems[0]!.usedBytes!.value > 0n);
  });

  test('by digest, and by tag plus digest; a tag plus the wrong digest fails', async () => {
    const img = await busyboxImage({ env: ['VARIANT=digest'] });
    await pushImage({ url: registry.url }, 'library/bydigest', img, { tag: 'v1' });
    const repo = `${registry.host}/library/bydigest`;
    assert.equal((await pull(`${repo}@${img.manifest.digest}`)).imageRef, img.config.digest);
    const s = await statusOf(img.config.digest);
    assert.deepEqual(s?.repoTags, [], 'a pull by digest adds no tag');
    assert.equal((await pull(`${repo}:v1@${img.manifest.digest}`)).imageRef, img.config.digest);
    const wrong = `sha256:${'0'.repeat(64)}`;
    await assert.rejects(pull(`${repo}:v1@${wrong}`), (err: { code: number; details: string }) => err.code === status.NOT_FOUND && err.details.includes(repo));
  });

  test('a multi-arch index pulls the manifest of this node', async () => {
    const index = await multiArchIndex();
    await pushIndex({ url: registry.url }, 'library/multi', index, { tag: 'latest' });
    const { imageRef } = await pull(`${registry.host}/library/multi`);
    const amd64 = index.images.find(i => i.platform.architecture === 'amd64' && !i.platform.variant)!;
    assert.equal(imageRef, amd64.config.digest);
    const s = await statusOf(`${registry.host}/library/multi:latest`);
    assert.deepEqual(s?.repoDigests, [`${registry.host}/library/multi@${index.index.digest}`]);
  });

  test('an invalid reference is INVALID_ARGUMENT naming it; a missing image is NOT_FOUND', async () => {
    await assert.rejects(pull('Upper/Case'), (err: { code: number; details: string }) => err.code === status.INVALID_ARGUMENT && err.details.includes('Upper/Case'));
    await assert.rejects(pull(`${registry.host}/library/nothing:here`), (err: { code: number }) => err.code === status.NOT_FOUND);
    assert.equal(await statusOf(`${registry.host}/library/nothing:here`), undefined, 'ImageStatus of an unknown image is empty, not an error');
  });
});

describe('mirrors and auth', () => {
  test('a mirror from hosts.toml serves a registry that is down', async () => {
    const img = await busyboxImage({ env: ['VARIANT=mirror'] });
    await pushImage({ url: registry.url }, 'team/app', img, { tag: '2' });
    writeHostsToml(hostsDir, 'upstream.invalid:5000', 'http://127.0.0.1:9', [registry.url]);
    assert.equal((await pull('upstream.invalid:5000/team/app:2')).imageRef, img.config.digest);
    assert.deepEqual((await statusOf('upstream.invalid:5000/team/app:2'))?.repoTags, ['upstream.invalid:5000/team/app:2']);
  });

  test('a registry with basic auth: refused without credentials, pulled with them', async () => {
    const secured = await startRegistry(hostsDir, { htpasswd: { user: 'kube', password: 's3cret' } });
    try {
      const img = await busyboxImage({ env: ['VARIANT=auth'] });
      await pushImage({ url: secured.url, credentials: secured.credentials }, 'private/app', img, { tag: '1' });
      const ref = `${secured.host}/private/app:1`;
      await assert.rejects(pull(ref), (err: { code: number; details: string }) =>
        err.code === status.FAILED_PRECONDITION && err.details.includes(secured.host) && err.details.includes('401'));
      assert.equal(await statusOf(ref), undefined);
      assert.equal((await pull(ref, { username: 'kube', password: 's3cret' })).imageRef, img.config.digest);
    } finally {
      await secured.stop();
    }
  });
});

describe('failures leave nothing behind', () => {
  test('a blob whose bytes do not match its digest: error, nothing recorded', async () => {
    const img = await uniqueImage('corrupt');
    await pushImage({ url: registry.url }, 'library/corrupt', img, { tag: '1' });
    await corruptBlobInStorage(registry, img.layers[1]!.digest);
    const ref = `${registry.host}/library/corrupt:1`;
    await assert.rejects(pull(ref), (err: { details: string }) => /digest|sha256/.test(err.details));
    assert.equal(await statusOf(ref), undefined);
    await assertNoLeftovers(ref);
  });

  test('the registry stopped mid-pull: clear error, no leftovers, and a later pull succeeds', async () => {
    const img = await randomLayersImage({ layers: 2, bytesPerLayer: 24 << 20, seed: 'mid-pull' });
    await pushImage({ url: registry.url }, 'library/big', img, { tag: '1' });
    const ref = `${proxy.host}/library/big:1`;
    let stopped: Promise<void> | undefined;
    proxy.onBlobBytes = (_path, bytes) => { if (bytes > 4 << 20) stopped ??= registry.stopProcess(); };
    try {
      await assert.rejects(pull(ref), (err: { code: number; details: string }) =>
        err.code === status.UNAVAILABLE && err.details.includes(ref));
    } finally {
      proxy.onBlobBytes = undefined;
      await stopped;
    }
    await assertNoLeftovers(ref);
    await registry.restart();
    // The pull that works reports progress for every layer, up to its full size.
    const progress = new Map<string, { done: number; total: number }>();
    const listener = (p: ImagePullProgress): void => { if (p.ref === ref) progress.set(p.layerDigest, { done: p.bytesDone, total: p.bytesTotal }); };
    const bus = runtime.container.get(RuntimeEventBus);
    bus.events.on('image:pull-progressed', listener);
    try {
      assert.equal((await pull(ref)).imageRef, img.config.digest);
    } finally {
      bus.events.off('image:pull-progressed', listener);
    }
    for (const layer of img.layers) assert.deepEqual(progress.get(layer.digest), { done: layer.size, total: layer.size });
  });

  test('a pull that stops moving bytes is cancelled after the stall timeout', async () => {
    const img = await randomLayersImage({ layers: 1, bytesPerLayer: 8 << 20, seed: 'stall' });
    await pushImage({ url: registry.url }, 'library/stall', img, { tag: '1' });
    const ref = `${proxy.host}/library/stall:1`;
    proxy.onBlobBytes = (path, bytes) => (path.endsWith(img.layers[0]!.digest) && bytes > 1 << 20 ? 'stall' : undefined);
    try {
      await assert.rejects(pull(ref), (err: { code: number; details: string }) => err.code === status.DEADLINE_EXCEEDED && err.details.includes(ref));
    } finally {
      proxy.onBlobBytes = undefined;
    }
    await assertNoLeftovers(ref);
  });
});

test('ten concurrent pulls of one image make one download', async () => {
  const img = await uniqueImage('concurrent');
  await pushImage({ url: registry.url }, 'library/shared', img, { tag: '1' });
  const ref = `${proxy.host}/library/shared:1`;
  const results = await Promise.all(Array.from({ length: 10 }, () => pull(ref)));
  assert.ok(results.every(r => r.imageRef === img.config.digest));
  assert.equal(proxy.blobGets(img.layers[1]!.digest), 1, 'the new layer was fetched once');
  assert.equal(proxy.blobGets(img.config.digest), 1, 'the config was fetched once');
});

test('remove by tag removes every name of the image; remove by id too; removing again is fine', async () => {
  const img = await uniqueImage('remove');
  await pushImage({ url: registry.url }, 'library/rm', img, { tag: 'a' });
  await pushImage({ url: registry.url }, 'library/rm', img, { tag: 'b' });
  const a = `${registry.host}/library/rm:a`;
  const b = `${registry.host}/library/rm:b`;
  await pull(a);
  await pull(b);
  assert.deepEqual((await statusOf(a))?.repoTags.sort(), [a, b]);
  await cri.image.removeImage({ image: { image: a } });
  assert.equal(await statusOf(b), undefined, 'the other tag went with the image');
  await cri.image.removeImage({ image: { image: a } });

  await pull(a);
  await cri.image.removeImage({ image: { image: img.config.digest } });
  assert.equal(await statusOf(a), undefined);
  const peek = await containerdPeek(socketOfContainerd);
  try {
    // The last name's delete was synchronous, so containerd's GC already ran: content and snapshots are gone.
    const gone = (e: Error & { kind?: string }) => e.kind === 'not-found';
    await assert.rejects(peek.content.info({ digest: img.layers[1]!.digest }), gone);
    await assert.rejects(peek.content.info({ digest: img.config.digest }), gone);
    await assert.rejects(peek.snapshots.stat({ snapshotter: 'overlayfs', key: chainIds(img.diffIds)[1]! }), gone);
    // The base layer stays: other images still use it.
    await peek.content.info({ digest: img.layers[0]!.digest });
  } finally {
    peek.close();
  }
});

test('docker save and OCI layout archives import into the store', async () => {
  const importer = runtime.container.get(ImageImporter);
  const saved = await uniqueImage('docker-save');
  const savedFile = path.join(dirs.dir, 'saved.tar');
  await writeDockerSave(savedFile, saved, ['crikit.test/saved:v1']);
  const [fromSave] = await importer.import(savedFile, AbortSignal.timeout(60_000));
  assert.equal(fromSave?.metadata.id, saved.config.digest);
  assert.deepEqual((await statusOf('crikit.test/saved:v1'))?.repoTags, ['crikit.test/saved:v1']);

  const layout = await uniqueImage('oci-layout');
  const layoutFile = path.join(dirs.dir, 'layout.tar');
  await writeOciLayout(layoutFile, layout, 'crikit.test/layout:v2');
  await importer.import(layoutFile, AbortSignal.timeout(60_000));
  assert.equal((await statusOf('crikit.test/layout:v2'))?.id, layout.config.digest);

  const peek = await containerdPeek(socketOfContainerd);
  try {
    for (const img of [saved, layout]) await peek.snapshots.stat({ snapshotter: 'overlayfs', key: chainIds(img.diffIds).at(-1)! });
  } finally {
    peek.close();
  }
  const notAnArchive = path.join(dirs.dir, 'empty.tar');
  writeFileSync(notAnArchive, Buffer.alloc(1024));
  await assert.rejects(importer.import(notAnArchive, AbortSignal.timeout(10_000)), (e: Error & { kind?: string }) => e.kind === 'invalid-argument');
});

test('a pinned image is reported pinned, also after a restart', async () => {
  const img = await uniqueImage('pinned');
  await pushImage({ url: registry.url }, 'library/pause', img, { tag: '3.10' });
  const ref = `${registry.host}/library/pause:3.10`;
  await runtime.container.get<ImageService>(ImageService).pull(ref, { pin: true }, AbortSignal.timeout(60_000));
  assert.equal((await statusOf(ref))?.pinned, true);
});

test('after a restart every image is listed with the same id and names', async () => {
  const summary = (i: { id: string; repoTags: string[]; repoDigests: string[]; pinned: boolean }) => ({ id: i.id, tags: [...i.repoTags].sort(), digests: [...i.repoDigests].sort(), pinned: i.pinned });
  const before = (await cri.image.listImages({})).images.map(summary);
  assert.ok(before.some(i => i.pinned));
  assert.ok(before.length >= 3);
  await restart();
  const afterList = (await cri.image.listImages({})).images.map(summary);
  const byId = (l: typeof before) => [...l].sort((x, y) => x.id.localeCompare(y.id));
  assert.deepEqual(byId(afterList), byId(before));
});

async function assertNoLeftovers(ref: string): Promise<void> {
  const peek = await containerdPeek(socketOfContainerd);
  try {
    const { images } = await peek.images.list({ filters: [] });
    assert.ok(!images.some(i => i.name.startsWith(ref.split(':').slice(0, -1).join(':'))), 'no image recorded in containerd');
    const { statuses } = await peek.content.listStatuses({ filters: [] });
    assert.deepEqual(statuses.map(s => s.ref), [], 'no ingest left open');
    const { leases } = await peek.leases.list({ filters: [] });
    assert.deepEqual(leases.filter(l => l.id.startsWith('crikit-pull-')).map(l => l.id), [], 'no pull lease left');
  } finally {
    peek.close();
  }
}
