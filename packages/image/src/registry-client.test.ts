import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  CancelledError, errorKind, FailedPreconditionError, isNotFound, NotFoundError, ResourceExhaustedError, silentLogger, UnavailableError,
} from '@crikit/core';
import { freePort } from '@crikit/testkit';
import { ImageReference } from './image-reference.js';
import { MediaTypes } from './image-manifest.js';
import { RegistryClient } from './registry-client.js';
import type { RegistryCapability, RegistryEndpoint } from './registry-hosts.js';
import { FakeRegistry, sha256 } from './testing/fake-registry.js';

const layer = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31) & 0xff));
const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));

function endpoint(url: string, capabilities: readonly RegistryCapability[] = ['pull', 'resolve', 'push']): RegistryEndpoint {
  return { url: `${url}/v2`, host: new URL(url).host, capabilities, skipVerify: false, caPems: [], headers: {} };
}

function clientFor(...endpoints: RegistryEndpoint[]): RegistryClient {
  return new RegistryClient({ pullStallTimeoutMs: 5_000 }, { endpoints: async () => endpoints }, silentLogger, { retry: { backoffMs: 1 } });
}

/** Stores a one-layer image under `repo:latest`; returns the descriptors. */
function seed(registry: FakeRegistry, repo = 'repo') {
  const configDesc = registry.addBlob(config, MediaTypes.ociConfig);
  const layerDesc = registry.addBlob(layer, MediaTypes.ociLayerGzip);
  const manifest = registry.addManifest(repo, { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: configDesc, layers: [layerDesc] }, MediaTypes.ociManifest, ['latest']);
  return { manifest, layer: layerDesc, ref: ImageReference.parse(`${registry.host}/${repo}:latest`) };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const signal = (): AbortSignal => AbortSignal.timeout(20_000);

describe('RegistryClient against a fake registry', () => {
  let registry: FakeRegistry;
  let client: RegistryClient;
  beforeEach(async () => {
    await registry?.close();
    client?.close();
    registry = await FakeRegistry.start();
    client = clientFor(endpoint(registry.url));
  });
  after(async () => {
    await registry.close();
    client.close();
  });

  it('resolves a tag with HEAD alone when the registry tells digest, type and size', async () => {
    const { manifest, ref } = seed(registry);
    assert.deepEqual(await client.resolve(ref, { signal: signal() }), manifest);
    assert.deepEqual(registry.requests.map(r => r.method), ['HEAD']);
    assert.match(String(registry.requests[0]?.headers.accept), /application\/vnd\.oci\.image\.index\.v1\+json/);
  });

  it('falls back to GET and hashes the body when HEAD gives no digest', async () => {
    const { manifest, ref } = seed(registry);
    registry.headDigest = false;
    assert.deepEqual(await client.resolve(ref, { signal: signal() }), manifest);
    assert.deepEqual(registry.requests.map(r => r.method), ['HEAD', 'GET']);
  });

  it('resolves by digest, and reports an unknown digest as not found', async () => {
    const { manifest } = seed(registry);
    const byDigest = ImageReference.parse(`${registry.host}/repo:latest@${manifest.digest}`);
    assert.deepEqual(await client.resolve(byDigest, { signal: signal() }), manifest);
    assert.equal(registry.requests[0]?.path, `/v2/repo/manifests/${manifest.digest}`);
    const unknown = ImageReference.parse(`${registry.host}/repo:latest@sha256:${'0'.repeat(64)}`);
    await assert.rejects(client.resolve(unknown, { signal: signal() }), (err: unknown) =>
      err instanceof NotFoundError && err.message === `image "${unknown.toString()}" not found at registry ${registry.host}`);
  });

  it('fetches manifests and refuses ones that do not match their descriptor', async () => {
    const { manifest, ref } = seed(registry);
    const bytes = await client.fetchManifest(ref, manifest, { signal: signal() });
    assert.equal(sha256(bytes), manifest.digest);
    await assert.rejects(client.fetchManifest(ref, { ...manifest, size: manifest.size - 1 }, { signal: signal() }), /size mismatch/);
    await assert.rejects(client.fetchManifest(ref, { ...manifest, digest: sha256(Buffer.from('x')) }, { signal: signal() }), isNotFound);
  });

  it('streams a blob and verifies it, and fails a corrupt one at the end', async () => {
    const { layer: desc, ref } = seed(registry);
    assert.ok((await readAll(await client.fetchBlob(ref, desc, { signal: signal() }))).equals(layer));
    const corrupt = Buffer.from(layer);
    corrupt[0] = corrupt[0]! ^ 1;
    registry.corruptBlob(desc.digest, corrupt);
    await assert.rejects(readAll(await client.fetchBlob(ref, desc, { signal: signal() })), (err: unknown) =>
      err instanceof FailedPreconditionError && err.message.includes(`blob ${desc.digest}: digest mismatch`));
    // For the content store, which checks the digest on commit, the bytes pass as they are.
    assert.ok((await readAll(await client.fetchBlob(ref, desc, { signal: signal(), verifyDigest: false }))).equals(corrupt));
  });

  it('refuses a blob whose length differs from the descriptor before streaming', async () => {
    const { layer: desc, ref } = seed(registry);
    registry.corruptBlob(desc.digest, layer.subarray(1));
    await assert.rejects(client.fetchBlob(ref, desc, { signal: signal() }), /size mismatch: registry 127\.0\.0\.1:\d+ sent 199999 bytes/);
  });

  it('resumes a cut download with Range, and copes with a registry that ignores Range', async () => {
    const { layer: desc, ref } = seed(registry);
    registry.fail(r => r.path.includes('/blobs/'), { cutAfter: 50_000 });
    assert.ok((await readAll(await client.fetchBlob(ref, desc, { signal: signal() }))).equals(layer));
    assert.deepEqual(registry.requests.filter(r => r.path.includes('/blobs/')).map(r => r.headers.range), [undefined, 'bytes=50000-']);
    registry.rangeSupport = false;
    registry.fail(r => r.path.includes('/blobs/'), { cutAfter: 70_000 });
    assert.ok((await readAll(await client.fetchBlob(ref, desc, { signal: signal() }))).equals(layer));
  });

  it('starts at an offset for a resumed ingest', async () => {
    const { layer: desc, ref } = seed(registry);
    const tail = await readAll(await client.fetchBlob(ref, desc, { signal: signal(), offset: 150_000 }));
    assert.ok(tail.equals(layer.subarray(150_000)));
    assert.equal(registry.requests.at(-1)?.headers.range, 'bytes=150000-');
  });

  it('retries 503 and dropped connections, and gives up after 3 tries', async () => {
    const { manifest, ref } = seed(registry);
    registry.fail(() => true, { status: 503 });
    registry.fail(() => true, { drop: true });
    assert.deepEqual(await client.resolve(ref, { signal: signal() }), manifest);
    assert.equal(registry.requests.length, 3);

    registry.requests.length = 0;
    registry.fail(() => true, { status: 500, body: '{"errors":[{"code":"UNKNOWN","message":"Storage Exploded."}]}' }, 3);
    await assert.rejects(client.resolve(ref, { signal: signal() }), (err: unknown) =>
      err instanceof UnavailableError && err.message === `pull "${ref.toString()}": registry ${registry.host} answered 500: internal server error`);
    assert.equal(registry.requests.length, 3);

    registry.fail(() => true, { status: 429, headers: { 'retry-after': '0' } }, 3);
    await assert.rejects(client.resolve(ref, { signal: signal() }), ResourceExhaustedError);
  });

  it('reports an unreachable registry as unavailable, after retries', async () => {
    const down = clientFor(endpoint(`http://127.0.0.1:${await freePort()}`));
    const ref = ImageReference.parse('127.0.0.1:1/repo');
    await assert.rejects(down.resolve(ref, { signal: signal() }), (err: unknown) =>
      err instanceof UnavailableError && /unreachable: connect ECONNREFUSED/.test(err.message));
  });

  it('stops at once when the signal fires', async () => {
    const { ref } = seed(registry);
    await assert.rejects(client.resolve(ref, { signal: AbortSignal.abort() }), CancelledError);
  });
});

describe('RegistryClient with mirrors', () => {
  let mirror: FakeRegistry;
  let server: FakeRegistry;
  before(async () => {
    mirror = await FakeRegistry.start();
    server = await FakeRegistry.start();
  });
  after(async () => {
    await mirror.close();
    await server.close();
  });

  it('skips a mirror that is down or lacks the image, and uses pull-only mirrors for blobs only', async () => {
    const { manifest, layer: desc } = seed(server);
    const pullOnly = await FakeRegistry.start();
    try {
      pullOnly.addBlob(layer);
      const downUrl = `http://127.0.0.1:${await freePort()}`;
      const client = clientFor(endpoint(downUrl), endpoint(pullOnly.url, ['pull']), endpoint(mirror.url), endpoint(server.url));
      const ref = ImageReference.parse(`${server.host}/repo:latest`);
      assert.deepEqual(await client.resolve(ref, { signal: signal() }), manifest);
      assert.equal(pullOnly.requests.length, 0);
      assert.equal(mirror.requests.length, 1);
      assert.ok((await readAll(await client.fetchBlob(ref, desc, { signal: signal() }))).equals(layer));
      assert.equal(pullOnly.requests.length, 1);
      client.close();
    } finally {
      await pullOnly.close();
    }
  });

  it('reports not found when the server lacks the image, even with a mirror down', async () => {
    const client = clientFor(endpoint(`http://127.0.0.1:${await freePort()}`), endpoint(server.url));
    const ref = ImageReference.parse(`${server.host}/absent:latest`);
    await assert.rejects(client.resolve(ref, { signal: signal() }), (err: unknown) => errorKind(err) === 'not-found');
  });
});

describe('RegistryClient authentication', () => {
  it('answers basic challenges, then sends credentials from the start', async () => {
    const registry = await FakeRegistry.start({ kind: 'basic', user: 'u', password: 'p' });
    try {
      const { manifest, layer: desc, ref } = seed(registry);
      const client = clientFor(endpoint(registry.url));
      await assert.rejects(client.resolve(ref, { signal: signal() }), (err: unknown) => {
        assert.ok(err instanceof FailedPreconditionError);
        assert.equal(err.message, `pull "${ref.toString()}": registry ${registry.host} answered 401: authentication required`);
        return true;
      });
      await assert.rejects(client.resolve(ref, { signal: signal(), credentials: { username: 'u', password: 'wrong' } }), FailedPreconditionError);
      registry.requests.length = 0;
      const credentials = { auth: Buffer.from('u:p').toString('base64') };
      assert.deepEqual(await client.resolve(ref, { signal: signal(), credentials }), manifest);
      await readAll(await client.fetchBlob(ref, desc, { signal: signal(), credentials }));
      assert.deepEqual(registry.requests.map(r => r.headers.authorization !== undefined), [false, true, true]);
      client.close();
    } finally {
      await registry.close();
    }
  });

  it('gets anonymous bearer tokens and caches them per scope', async () => {
    const registry = await FakeRegistry.start({ kind: 'bearer', user: 'u', password: 'p', anonymous: true });
    try {
      const { manifest, layer: desc, ref } = seed(registry);
      const client = clientFor(endpoint(registry.url));
      assert.deepEqual(await client.resolve(ref, { signal: signal() }), manifest);
      await client.fetchManifest(ref, manifest, { signal: signal() });
      await readAll(await client.fetchBlob(ref, desc, { signal: signal() }));
      assert.equal(registry.issuedTokens.length, 1);
      const tokenRequest = registry.requests.find(r => r.path.startsWith('/token'));
      assert.equal(tokenRequest?.path, '/token?service=fake-registry&scope=repository%3Arepo%3Apull');
      assert.equal(tokenRequest?.headers.authorization, undefined);
      client.close();
    } finally {
      await registry.close();
    }
  });

  it('gets tokens with a password or a refresh token, uses a registry token as it is, and names a refusing token server', async () => {
    const registry = await FakeRegistry.start({ kind: 'bearer', user: 'u', password: 'p', refreshToken: 'refresh' });
    try {
      const { manifest, ref } = seed(registry);
      const client = clientFor(endpoint(registry.url));
      await assert.rejects(client.resolve(ref, { signal: signal() }), (err: unknown) =>
        err instanceof FailedPreconditionError
          && err.message === `pull "${ref.toString()}": token server ${registry.host} answered 401: incorrect username or password`);
      assert.deepEqual(await client.resolve(ref, { signal: signal(), credentials: { username: 'u', password: 'p' } }), manifest);
      const tokenGet = registry.requests.filter(r => r.path.startsWith('/token')).at(-1);
      assert.equal(tokenGet?.method, 'GET');
      assert.match(tokenGet?.path ?? '', /account=u/);

      assert.deepEqual(await client.resolve(ref, { signal: signal(), credentials: { identityToken: 'refresh' } }), manifest);
      assert.equal(registry.requests.filter(r => r.path.startsWith('/token')).at(-1)?.method, 'POST');

      registry.issuedTokens.push('given-by-kubelet');
      const before = registry.requests.filter(r => r.path.startsWith('/token')).length;
      assert.deepEqual(await client.resolve(ref, { signal: signal(), credentials: { registryToken: 'given-by-kubelet' } }), manifest);
      assert.equal(registry.requests.filter(r => r.path.startsWith('/token')).length, before);
      client.close();
    } finally {
      await registry.close();
    }
  });

  it('follows blob redirects without sending credentials to the other host', async () => {
    const registry = await FakeRegistry.start({ kind: 'basic', user: 'u', password: 'p' });
    const storage = await FakeRegistry.start();
    try {
      const { layer: desc, ref } = seed(registry);
      storage.addBlob(layer);
      registry.fail(r => r.path.includes('/blobs/') && r.headers.authorization !== undefined, { redirect: `${storage.url}/v2/repo/blobs/${desc.digest}` });
      const client = clientFor(endpoint(registry.url));
      const data = await readAll(await client.fetchBlob(ref, desc, { signal: signal(), credentials: { username: 'u', password: 'p' } }));
      assert.ok(data.equals(layer));
      assert.equal(storage.requests.length, 1);
      assert.equal(storage.requests[0]?.headers.authorization, undefined);
      client.close();
    } finally {
      await registry.close();
      await storage.close();
    }
  });
});

describe('RegistryClient.fetchBlob edge cases', () => {
  it('returns an empty stream when the offset is already the size', async () => {
    const client = clientFor(endpoint('http://127.0.0.1:1'));
    const desc = { mediaType: MediaTypes.ociLayerGzip, digest: sha256(layer), size: layer.length };
    const stream = await client.fetchBlob(ImageReference.parse('127.0.0.1:1/r'), desc, { signal: signal(), offset: layer.length });
    assert.equal((await readAll(stream)).length, 0);
    await assert.rejects(client.fetchBlob(ImageReference.parse('127.0.0.1:1/r'), desc, { signal: signal(), offset: layer.length + 1 }), /outside the blob/);
  });
});
