import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailedPreconditionError, UnimplementedError } from '@crikit/core';
import { contentMediaType, MediaTypes, parseImageManifest } from './image-manifest.js';

const D = (c: string): string => `sha256:${c.repeat(64)}`;
const manifest = { schemaVersion: 2, config: { mediaType: MediaTypes.ociConfig, digest: D('a'), size: 10 }, layers: [{ mediaType: MediaTypes.ociLayerGzip, digest: D('b'), size: 20 }] };
const index = { schemaVersion: 2, manifests: [{ mediaType: MediaTypes.ociManifest, digest: D('c'), size: 30, platform: { os: 'linux', architecture: 'amd64' } }] };
const bytes = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

describe('parseImageManifest', () => {
  it('takes the media type from the JSON, then the Content-Type, then the shape', () => {
    const declared = parseImageManifest(bytes({ ...manifest, mediaType: MediaTypes.dockerManifest }), 'w', MediaTypes.ociManifest);
    assert.equal(declared.kind, 'manifest');
    assert.equal(declared.mediaType, MediaTypes.dockerManifest);
    assert.equal(parseImageManifest(bytes(index), 'w', `${MediaTypes.dockerManifestList}; charset=utf-8`).mediaType, MediaTypes.dockerManifestList);
    assert.equal(parseImageManifest(bytes(index), 'w', 'application/json').mediaType, MediaTypes.ociIndex);
    assert.equal(parseImageManifest(bytes(manifest), 'w').mediaType, MediaTypes.ociManifest);
  });

  it('returns the parsed index and its descriptors', () => {
    const parsed = parseImageManifest(bytes(index), 'w');
    assert.equal(parsed.kind, 'index');
    assert.equal(parsed.kind === 'index' ? parsed.index.manifests[0]?.platform?.architecture : undefined, 'amd64');
  });

  it('refuses invalid, contradictory and unsupported content', () => {
    assert.throws(() => parseImageManifest(Buffer.from('{'), 'pull "x"'), (e: unknown) => e instanceof FailedPreconditionError && e.message.startsWith('pull "x": invalid manifest: not json'));
    assert.throws(() => parseImageManifest(bytes([1]), 'w'), FailedPreconditionError);
    assert.throws(() => parseImageManifest(bytes({ ...index, mediaType: MediaTypes.ociManifest }), 'w'), /with manifests/);
    assert.throws(() => parseImageManifest(bytes({ ...manifest, mediaType: MediaTypes.ociIndex }), 'w'), /with config or layers/);
    assert.throws(() => parseImageManifest(bytes({ ...manifest, layers: [{ digest: 'nope', size: -1 }] }), 'w'), /invalid manifest: layers\.0\./);
    assert.throws(() => parseImageManifest(bytes({ schemaVersion: 1, name: 'x' }), 'w'), UnimplementedError);
    assert.throws(() => parseImageManifest(bytes({ schemaVersion: 2, mediaType: 'application/x-other' }), 'w'), UnimplementedError);
    assert.throws(() => parseImageManifest(bytes({ schemaVersion: 2 }), 'w'), /neither an index nor a manifest/);
  });

  it('reads media types from Content-Type headers', () => {
    assert.equal(contentMediaType('Application/Vnd.OCI.Image.Index.v1+json; charset=utf-8'), MediaTypes.ociIndex);
    assert.equal(contentMediaType('application/json'), undefined);
    assert.equal(contentMediaType(undefined), undefined);
  });
});
