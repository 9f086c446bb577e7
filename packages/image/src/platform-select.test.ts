import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFoundError } from '@crikit/core';
import { MediaTypes, type Descriptor, type Platform } from './image-manifest.js';
import { compatiblePlatforms, formatPlatform, hostPlatform, normalizePlatform, selectPlatformManifest } from './platform-select.js';

let n = 0;
function entry(platform: Platform | undefined, mediaType: string = MediaTypes.ociManifest): Descriptor {
  n++;
  const digest = `sha256:${n.toString(16).padStart(64, '0')}`;
  return { mediaType, digest, size: 100 + n, ...(platform !== undefined ? { platform } : {}) };
}
const linux = (architecture: string, variant?: string): Platform => ({ os: 'linux', architecture, ...(variant !== undefined ? { variant } : {}) });

describe('hostPlatform', () => {
  it('maps Node architectures to OCI names', () => {
    assert.deepEqual(hostPlatform('x64', 'linux'), { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(hostPlatform('arm64', 'linux'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
    assert.equal(hostPlatform('arm', 'linux').architecture, 'arm');
    assert.match(hostPlatform('arm', 'linux').variant ?? '', /^v[5-8]$/);
    assert.deepEqual(hostPlatform('ia32', 'linux'), { os: 'linux', architecture: '386' });
    assert.deepEqual(hostPlatform('s390x', 'linux'), { os: 'linux', architecture: 's390x' });
    assert.deepEqual(hostPlatform('riscv64', 'linux'), { os: 'linux', architecture: 'riscv64' });
    assert.equal(hostPlatform().os, process.platform);
  });
});

describe('normalizePlatform', () => {
  it('normalises spellings and default variants as containerd does', () => {
    assert.deepEqual(normalizePlatform(linux('x86_64')), linux('amd64'));
    assert.deepEqual(normalizePlatform(linux('amd64', 'v1')), linux('amd64'));
    assert.deepEqual(normalizePlatform(linux('aarch64')), linux('arm64', 'v8'));
    assert.deepEqual(normalizePlatform(linux('arm64', '8')), linux('arm64', 'v8'));
    assert.deepEqual(normalizePlatform(linux('arm')), linux('arm', 'v7'));
    assert.deepEqual(normalizePlatform(linux('armhf')), linux('arm', 'v7'));
    assert.deepEqual(normalizePlatform(linux('armel')), linux('arm', 'v6'));
    assert.deepEqual(normalizePlatform(linux('arm', '6')), linux('arm', 'v6'));
    assert.deepEqual(normalizePlatform({ os: 'Linux', architecture: 'I386' }), linux('386'));
  });

  it('lists what a platform can run, best first', () => {
    assert.deepEqual(compatiblePlatforms(linux('amd64')).map(formatPlatform), ['linux/amd64', 'linux/386']);
    assert.deepEqual(compatiblePlatforms(linux('arm64')).map(formatPlatform),
      ['linux/arm64/v8', 'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']);
    assert.deepEqual(compatiblePlatforms(linux('arm', 'v7')).map(formatPlatform), ['linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']);
    assert.deepEqual(compatiblePlatforms(linux('amd64', 'v3')).map(formatPlatform),
      ['linux/amd64/v3', 'linux/amd64/v2', 'linux/amd64', 'linux/386']);
  });
});

describe('selectPlatformManifest', () => {
  const amd64 = entry(linux('amd64'));
  const arm64v8 = entry(linux('arm64', 'v8'));
  const armv7 = entry(linux('arm', 'v7'));
  const armv6 = entry(linux('arm', 'v6'));
  const index = { manifests: [amd64, arm64v8, armv7, armv6] };

  it('picks the exact platform', () => {
    assert.equal(selectPlatformManifest('x', index, linux('amd64')), amd64);
    assert.equal(selectPlatformManifest('x', index, linux('arm', 'v7')), armv7);
    assert.equal(selectPlatformManifest('x', index, linux('arm', 'v6')), armv6);
  });

  it('matches arm64 with variant v8 or none', () => {
    assert.equal(selectPlatformManifest('x', index, linux('arm64')), arm64v8);
    const bare = entry(linux('arm64'));
    assert.equal(selectPlatformManifest('x', { manifests: [amd64, bare] }, linux('arm64', 'v8')), bare);
  });

  it('falls back to older variants, and arm64 to 32-bit arm', () => {
    assert.equal(selectPlatformManifest('x', { manifests: [amd64, armv6] }, linux('arm', 'v7')), armv6);
    assert.equal(selectPlatformManifest('x', { manifests: [amd64, armv6, armv7] }, linux('arm64')), armv7);
    const i386 = entry(linux('386'));
    assert.equal(selectPlatformManifest('x', { manifests: [arm64v8, i386] }, linux('amd64')), i386);
  });

  it('prefers the better match over index order, and index order among equals', () => {
    assert.equal(selectPlatformManifest('x', { manifests: [armv6, armv7] }, linux('arm', 'v7')), armv7);
    const twin = entry(linux('amd64'));
    assert.equal(selectPlatformManifest('x', { manifests: [amd64, twin] }, linux('amd64')), amd64);
  });

  it('skips non-manifests and takes entries without a platform last', () => {
    const attestation = entry({ os: 'unknown', architecture: 'unknown' });
    const nested = entry(linux('amd64'), MediaTypes.ociIndex);
    const plain = entry(undefined, MediaTypes.dockerManifest);
    assert.equal(selectPlatformManifest('x', { manifests: [nested, plain, attestation] }, linux('amd64')), plain);
    assert.equal(selectPlatformManifest('x', { manifests: [plain, amd64] }, linux('amd64')), amd64);
  });

  it('says which platform is missing and which the index has', () => {
    assert.throws(() => selectPlatformManifest('127.0.0.1:5000/busybox:latest', { manifests: [arm64v8, armv7] }, linux('amd64')),
      (err: unknown) => {
        assert.ok(err instanceof NotFoundError);
        assert.equal(err.message,
          'image "127.0.0.1:5000/busybox:latest" has no manifest for platform linux/amd64: the index lists linux/arm64/v8, linux/arm/v7');
        return true;
      });
    assert.throws(() => selectPlatformManifest('x', { manifests: [] }, linux('amd64')), /the index is empty/);
  });
});
