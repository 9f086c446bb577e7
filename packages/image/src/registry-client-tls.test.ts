import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger, UnavailableError } from '@crikit/core';
import { ImageReference } from './image-reference.js';
import { MediaTypes } from './image-manifest.js';
import { RegistryClient } from './registry-client.js';
import type { RegistryEndpoint } from './registry-hosts.js';
import { FakeRegistry } from './testing/fake-registry.js';

/** A self-signed certificate for 127.0.0.1 and localhost, valid for 100 years. For tests only. */
const CERT = `-----BEGIN CERTIFICATE-----
MIIBnzCCAUWgAwIBAgIUVTScAkwzEvRAOownqxN+glskwpYwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLY3Jpa2l0LXRlc3QwIBcNMjYxMTI5MTkxMjA3WhgPMjEyNjEx
MDUxOTEyMDdaMBYxFDASBgNVBAMMC2NyaWtpdC10ZXN0MFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEm0GoPMEs2MwLSMZnvIW6KWJHElldBpbd2CpzDEUB7tgZpCEB
m4vjwTIgRTIPQR3a7dIkbPsWrozwPOEv3O/ilaNvMG0wHQYDVR0OBBYEFPQiHEqy
wdxAFhEq2EbypecNGasKMB8GA1UdIwQYMBaAFPQiHEqywdxAFhEq2EbypecNGasK
MA8GA1UdEwEB/wQFMAMBAf8wGgYDVR0RBBMwEYcEfwAAAYIJbG9jYWxob3N0MAoG
CCqGSM49BAMCA0gAMEUCIQCSKx5idDtespB1EgWpMsmv7BQYNvWdnl0TCT7qfQ+j
NAIgQ1hJ5jqH1GAdnwCwwvTEEV7tMomnW56/Z/AxbNTYQO4=
-----END CERTIFICATE-----
`;
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgtkBPPtR6FKQwoCZa
nQ9pzS1qrNfWB86JU6VKmNJMm8ChRANCAASbQag8wSzYzAtIxme8hbopYkcSWV0G
lt3YKnMMRQHu2BmkIQGbi+PBMiBFMg9BHdrt0iRs+xaujPA84S/c7+KV
-----END PRIVATE KEY-----
`;

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
