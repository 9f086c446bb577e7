import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { MediaType } from './media-types.js';
import type { Blob } from './oci-blob.js';
import { buildImage, layersOf, type BuiltImage } from './oci-image.js';
import { buildIndex } from './oci-index.js';
import { buildLayer } from './oci-layer.js';
import { readTar } from './tar-reader.js';

const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const json = (blob: Blob): any => JSON.parse(blob.data.toString('utf8'));

const base = [
  { type: 'directory', path: 'app' },
  { type: 'file', path: 'app/run.sh', data: '#!/bin/sh\necho hi\n', mode: 0o755 },
] as const;
const top = [{ type: 'file', path: 'app/config.txt', data: 'debug=1\n' }] as const;

function twoLayerImage(format: 'oci' | 'docker' = 'oci'): Promise<BuiltImage> {
  return buildImage({
    layers: [base, top],
    format,
    architecture: 'arm64',
    variant: 'v8',
    entrypoint: ['/app/run.sh'],
    cmd: ['--flag'],
    env: ['A=1', 'B=two'],
    workingDir: '/app',
    user: '1000:1000',
    stopSignal: 'SIGQUIT',
    labels: { 'org.example': 'yes' },
    exposedPorts: ['80/tcp', '53/udp'],
    volumes: ['/data'],
  });
}

function assertBlobDigest(blob: Blob): void {
  assert.equal(blob.digest, sha256(blob.data));
  assert.equal(blob.size, blob.data.length);
}

describe('buildImage', () => {
  it('gives every blob the sha256 digest and size of its bytes', async () => {
    const image = await twoLayerImage();
    for (const blob of [image.manifest, image.config, ...image.layers]) assertBlobDigest(blob);
    assert.equal(image.layers.length, 2);
  });

  it('writes an OCI manifest that references the config and layers with their sizes', async () => {
    const image = await twoLayerImage();
    assert.equal(image.mediaType, MediaType.ociManifest);
    assert.equal(image.manifest.mediaType, MediaType.ociManifest);
    const manifest = json(image.manifest);
    assert.equal(manifest.schemaVersion, 2);
    assert.equal(manifest.mediaType, MediaType.ociManifest);
    assert.deepEqual(manifest.config, { mediaType: MediaType.ociConfig, digest: image.config.digest, size: image.config.size });
    assert.deepEqual(manifest.layers, image.layers.map(l => ({ mediaType: MediaType.ociLayerGzip, digest: l.digest, size: l.size })));
  });

  it('writes diff_ids equal to the sha256 of the gunzipped layers', async () => {
    const image = await twoLayerImage();
    const config = json(image.config);
    const tars = image.layers.map(l => gunzipSync(l.data));
    assert.deepEqual(config.rootfs, { type: 'layers', diff_ids: tars.map(sha256) });
    assert.deepEqual(image.diffIds, tars.map(sha256));
    assert.deepEqual((await readTar(tars[0]!)).map(e => e.path), ['app', 'app/run.sh']);
    assert.equal((await readTar(tars[1]!))[0]!.data.toString(), 'debug=1\n');
    assert.equal(config.history.length, 2);
  });

  it('writes the runtime config and platform', async () => {
    const config = json((await twoLayerImage()).config);
    assert.equal(config.architecture, 'arm64');
    assert.equal(config.variant, 'v8');
    assert.equal(config.os, 'linux');
    assert.deepEqual(config.config, {
      User: '1000:1000',
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      Env: ['A=1', 'B=two'],
      Entrypoint: ['/app/run.sh'],
      Cmd: ['--flag'],
      Volumes: { '/data': {} },
      WorkingDir: '/app',
      Labels: { 'org.example': 'yes' },
      StopSignal: 'SIGQUIT',
    });
  });

  it('is deterministic, with no mtime in the gzip header', async () => {
    const a = await twoLayerImage();
    const b = await twoLayerImage();
    assert.equal(a.manifest.digest, b.manifest.digest);
    for (const layer of a.layers) {
      assert.deepEqual([...layer.data.subarray(0, 3)], [0x1f, 0x8b, 8], 'gzip magic and deflate');
      assert.equal(layer.data.readUInt32LE(4), 0, 'gzip MTIME is zero');
      assert.equal(layer.data[3]! & 0x08, 0, 'no FNAME in gzip header');
    }
  });

  it('writes Docker schema2 media types on request, with the same layer bytes', async () => {
    const oci = await twoLayerImage();
    const docker = await twoLayerImage('docker');
    assert.equal(docker.mediaType, MediaType.dockerManifest);
    const manifest = json(docker.manifest);
    assert.equal(manifest.mediaType, MediaType.dockerManifest);
    assert.equal(manifest.config.mediaType, MediaType.dockerConfig);
    assert.equal(docker.config.mediaType, MediaType.dockerConfig);
    assert.deepEqual(manifest.layers.map((l: any) => l.mediaType), [MediaType.dockerLayerGzip, MediaType.dockerLayerGzip]);
    assert.deepEqual(docker.layers.map(l => l.digest), oci.layers.map(l => l.digest));
    assertBlobDigest(docker.manifest);
    await assert.rejects(buildImage({ layers: [base], format: 'docker', annotations: { a: 'b' } }), /annotations/);
  });

  it('reuses prebuilt layers, so another architecture shares them', async () => {
    const layer = await buildLayer(base);
    const amd = await buildImage({ layers: [layer] });
    const arm = await buildImage({ layers: layersOf(amd), architecture: 'arm', variant: 'v7' });
    assert.equal(arm.layers[0]!.digest, layer.blob.digest);
    assert.deepEqual(arm.diffIds, amd.diffIds);
    assert.notEqual(arm.config.digest, amd.config.digest);
    await assert.rejects(buildImage({ layers: [] }), /at least one layer/);
  });
});

const amd = await buildImage({ layers: [base], architecture: 'amd64' });
const arm = await buildImage({ layers: [base], architecture: 'arm', variant: 'v7' });

describe('buildIndex', () => {

  it('lists each image manifest with its platform', async () => {
    const built = buildIndex([amd, arm]);
    assert.equal(built.mediaType, MediaType.ociIndex);
    assertBlobDigest(built.index);
    const index = json(built.index);
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, MediaType.ociIndex);
    assert.deepEqual(index.manifests, [
      { mediaType: MediaType.ociManifest, digest: amd.manifest.digest, size: amd.manifest.size, platform: { architecture: 'amd64', os: 'linux' } },
      { mediaType: MediaType.ociManifest, digest: arm.manifest.digest, size: arm.manifest.size,
        platform: { architecture: 'arm', os: 'linux', variant: 'v7' } },
    ]);
  });

  it('writes a Docker manifest list for schema2 images', async () => {
    const dAmd = await buildImage({ layers: [base], format: 'docker' });
    const dArm = await buildImage({ layers: [base], format: 'docker', architecture: 'arm64' });
    const built = buildIndex([dAmd, dArm]);
    assert.equal(built.mediaType, MediaType.dockerManifestList);
    const index = json(built.index);
    assert.equal(index.mediaType, MediaType.dockerManifestList);
    assert.deepEqual(index.manifests.map((m: any) => m.mediaType), [MediaType.dockerManifest, MediaType.dockerManifest]);
  });

  it('refuses an empty list, mixed formats and a repeated platform', async () => {
    assert.throws(() => buildIndex([]), /at least one image/);
    const docker = await buildImage({ layers: [base], format: 'docker', architecture: 'arm64' });
    assert.throws(() => buildIndex([amd, docker]), /mix/);
    assert.throws(() => buildIndex([amd, amd]), /linux\/amd64 is listed twice/);
  });
});
