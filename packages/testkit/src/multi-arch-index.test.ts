import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busyboxImage } from './busybox-image.js';
import { MediaType } from './media-types.js';
import { multiArchIndex } from './multi-arch-index.js';

describe('multiArchIndex', () => {
  it('lists busybox for amd64, arm64 and arm/v7 sharing one layer', async () => {
    const built = await multiArchIndex();
    const index = JSON.parse(built.index.data.toString('utf8'));
    assert.equal(index.mediaType, MediaType.ociIndex);
    assert.deepEqual(index.manifests.map((m: any) => m.platform), [
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux', variant: 'v8' },
      { architecture: 'arm', os: 'linux', variant: 'v7' },
    ]);
    assert.deepEqual(index.manifests.map((m: any) => m.digest), built.images.map(i => i.manifest.digest));
    assert.equal(new Set(built.images.map(i => i.layers[0]!.digest)).size, 1);
    const archs = built.images.map(i => JSON.parse(i.config.data.toString('utf8')).architecture);
    assert.deepEqual(archs, ['amd64', 'arm64', 'arm']);
  });

  it('writes a Docker manifest list on request and takes given images as they are', async () => {
    const docker = await multiArchIndex({ format: 'docker', platforms: [{ os: 'linux', architecture: 'amd64' }] });
    assert.equal(docker.mediaType, MediaType.dockerManifestList);
    const images = [await busyboxImage({ architecture: 's390x' }), await busyboxImage({ architecture: 'riscv64' })];
    const given = await multiArchIndex({ images });
    assert.deepEqual(given.images, images);
    await assert.rejects(multiArchIndex({ images, format: 'docker' }), /excludes/);
  });
});
