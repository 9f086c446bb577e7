import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { busyboxImage } from './busybox-image.js';
import { blobStoragePath, corruptBlobInStorage } from './corrupt-blob-in-storage.js';
import { LocalRegistry } from './local-registry.js';
import { MediaType } from './media-types.js';
import { multiArchIndex } from './multi-arch-index.js';
import type { BuiltImage } from './oci-image.js';
import { randomLayersImage } from './random-layers-image.js';
import { pushImage, pushIndex, registryRequest, type PushTarget } from './registry-push.js';

const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Fetches the manifest and every blob of `image` back and checks bytes and digests. */
async function assertImageServed(target: PushTarget, repo: string, ref: string, image: BuiltImage): Promise<void> {
  const manifest = await registryRequest(target, 'GET', `/v2/${repo}/manifests/${ref}`, {
    credentials: target.credentials,
    headers: { accept: image.mediaType },
  });
  assert.equal(manifest.status, 200, `GET manifest ${repo}:${ref}`);
  assert.equal(manifest.headers['content-type'], image.mediaType);
  assert.equal(manifest.headers['docker-content-digest'], image.manifest.digest);
  assert.deepEqual(manifest.body, image.manifest.data);
  const parsed = JSON.parse(manifest.body.toString('utf8'));
  for (const desc of [parsed.config, ...parsed.layers]) {
    const blob = await registryRequest(target, 'GET', `/v2/${repo}/blobs/${desc.digest}`, { credentials: target.credentials });
    assert.equal(blob.status, 200, `GET blob ${desc.digest}`);
    assert.equal(blob.body.length, desc.size);
    assert.equal(sha256(blob.body), desc.digest);
  }
}

describe('pushImage and pushIndex', () => {
  let registry: LocalRegistry;
  before(async () => { registry = await LocalRegistry.start(); });
  after(async () => { await registry?.stop(); }); // undefined if before() failed

  it('pushes busybox so that the registry serves its manifest and blobs', async () => {
    const image = await busyboxImage();
    const result = await pushImage(registry, 'library/busybox', image, { tag: 'latest' });
    assert.equal(result.reference, `${registry.host}/library/busybox:latest`);
    assert.equal(result.digest, image.manifest.digest);
    assert.deepEqual(result.uploaded, [image.config.digest, image.layers[0]!.digest]);
    await assertImageServed(registry, 'library/busybox', 'latest', image);
    await assertImageServed(registry, 'library/busybox', image.manifest.digest, image);
    const again = await pushImage(registry, 'library/busybox', image, { tag: 'latest' });
    assert.deepEqual(again.uploaded, []);
    assert.deepEqual(again.skipped, result.uploaded);
  });

  it('pushes a Docker schema2 image', async () => {
    const image = await busyboxImage({ format: 'docker', cmd: ['echo', 'docker'] });
    await pushImage(registry, 'docker/busybox', image, { tag: 'v2' });
    await assertImageServed(registry, 'docker/busybox', 'v2', image);
  });

  it('pushes a multi-arch index and each platform manifest', async () => {
    for (const format of ['oci', 'docker'] as const) {
      const built = await multiArchIndex({ format });
      const result = await pushIndex(registry, `multi/${format}`, built, { tag: 'v1' });
      assert.equal(result.digest, built.index.digest);
      const res = await registryRequest(registry, 'GET', `/v2/multi/${format}/manifests/v1`, { headers: { accept: built.mediaType } });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], format === 'oci' ? MediaType.ociIndex : MediaType.dockerManifestList);
      assert.deepEqual(res.body, built.index.data);
      for (const image of built.images) await assertImageServed(registry, `multi/${format}`, image.manifest.digest, image);
    }
  });

  it('pushes multi-layer random images', async () => {
    const image = await randomLayersImage({ layers: 3, bytesPerLayer: 2 * 1024 * 1024, seed: 'push' });
    await pushImage(registry, 'bench/random', image);
    await assertImageServed(registry, 'bench/random', 'latest', image);
  });

  it('corrupts a stored blob: same length, other bytes', async () => {
    const image = await busyboxImage({ extraFiles: [{ type: 'file', path: 'etc/corrupt-me', data: 'x' }] });
    await pushImage(registry, 'corrupt/busybox', image);
    const layer = image.layers[0]!;
    const path = await corruptBlobInStorage(registry, layer.digest);
    assert.equal(path, blobStoragePath(registry, layer.digest));
    const res = await registryRequest(registry, 'GET', `/v2/corrupt/busybox/blobs/${layer.digest}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.length, layer.size);
    assert.notEqual(sha256(res.body), layer.digest);
    await assert.rejects(corruptBlobInStorage(registry, `sha256:${'0'.repeat(64)}`), /not in registry storage/);
  });
});

describe('pushImage with htpasswd auth', () => {
  let registry: LocalRegistry;
  before(async () => { registry = await LocalRegistry.start({ htpasswd: { user: 'bob', password: 'hunter2' } }); });
  after(async () => { await registry?.stop(); }); // undefined if before() failed

  it('authenticates with the registry credentials; GET needs them too', async () => {
    const image = await sleeperImage();
    await pushImage(registry, 'private/busybox', image);
    const anonymous = await registryRequest(registry, 'GET', '/v2/private/busybox/manifests/latest', {
      headers: { accept: image.mediaType },
    });
    assert.equal(anonymous.status, 401);
    await assertImageServed(registry, 'private/busybox', 'latest', image);
  });

  it('fails with the HTTP status when the credentials are wrong', async () => {
    const image = await sleeperImage();
    await assert.rejects(
      pushImage({ url: registry.url }, 'private/other', image),
      /push blob sha256:[0-9a-f]{64} to private\/other: HTTP 401/,
    );
    await assert.rejects(
      pushImage(registry, 'private/other', image, { credentials: { user: 'bob', password: 'wrong' } }),
      /HTTP 401/,
    );
  });
});

function sleeperImage(): Promise<BuiltImage> {
  return busyboxImage({ cmd: ['sleep', '3600'] });
}
