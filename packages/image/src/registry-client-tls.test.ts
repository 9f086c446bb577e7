import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger, UnavailableError } from '@crikit/core';
import { ImageReference } from './image-reference.js';
import { MediaTypes } from './image-manifest.js';
import { RegistryClient } from './registry-client.js';
import type { RegistryEndpoint } from './registry-hosts.js';
import { FakeRegistry } from './testing/fake-registry.js';
import { TEST_CERT as CERT, TEST_KEY as KEY } from './testing/test-certificate.js';

describe('RegistryClient over https', () => {
  let registry: FakeRegistry;
  let manifest: { mediaType: string; digest: string; size: number };
  let ref: ImageReference;
  before(async () => {
    registry = await FakeRegistry.start({ kind: 'none' }, { tls: { cert: CERT, key: KEY } });
    manifest = registry.addManifest('repo', { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] }, MediaTypes.ociIndex, ['latest']);
    ref = ImageReference.parse(`${registry.host}/repo:latest`);
  });
  after(async () => {
    await registry.close();
  });

  const clientWith = (tls: Pick<RegistryEndpoint, 'skipVerify' | 'caPems'>): RegistryClient => {
    const endpoint: RegistryEndpoint = { url: `${registry.url}/v2`, host: registry.host, capabilities: ['pull', 'resolve'], headers: {}, ...tls };
    return new RegistryClient({ pullStallTimeoutMs: 5_000 }, { endpoints: async () => [endpoint] }, silentLogger, { retry: { backoffMs: 1 } });
  };

  it('refuses a certificate it cannot verify', async () => {
    const client = clientWith({ skipVerify: false, caPems: [] });
    await assert.rejects(client.resolve(ref, { signal: AbortSignal.timeout(10_000) }), (err: unknown) =>
      err instanceof UnavailableError && err.message.includes(`registry ${registry.host} unreachable: self-signed certificate`));
    client.close();
  });

  it('trusts the CA from hosts.toml next to the system roots', async () => {
    const client = clientWith({ skipVerify: false, caPems: [CERT] });
    assert.deepEqual(await client.resolve(ref, { signal: AbortSignal.timeout(10_000) }), manifest);
    client.close();
  });

  it('accepts any certificate with skip_verify', async () => {
    const client = clientWith({ skipVerify: true, caPems: [] });
    assert.deepEqual(await client.resolve(ref, { signal: AbortSignal.timeout(10_000) }), manifest);
    client.close();
  });

  it('sends the headers of the endpoint', async () => {
    const endpoint: RegistryEndpoint = {
      url: `${registry.url}/v2`, host: registry.host, capabilities: ['pull', 'resolve'], skipVerify: true, caPems: [],
      headers: { 'X-Mirror-Token': ['abc'], 'X-Multi': ['1', '2'] },
    };
    const client = new RegistryClient({ pullStallTimeoutMs: 5_000 }, { endpoints: async () => [endpoint] }, silentLogger);
    registry.requests.length = 0;
    await client.resolve(ref, { signal: AbortSignal.timeout(10_000) });
    assert.equal(registry.requests[0]?.headers['x-mirror-token'], 'abc');
    assert.equal(registry.requests[0]?.headers['x-multi'], '1, 2');
    client.close();
  });
});
