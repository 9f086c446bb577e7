/**
 * The registry client against the real Debian docker-registry (distribution 2.8) on 127.0.0.1,
 * with images built from the host's static busybox (@crikit/testkit). Endpoints come from a real
 * hosts.toml config dir, as in production.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { errorKind, FailedPreconditionError, NotFoundError, silentLogger, UnavailableError } from '@crikit/core';
import {
  busyboxImage, corruptBlobInStorage, freePort, LocalRegistry, multiArchIndex, pushImage, pushIndex, randomLayersImage,
  type BuiltImage,
} from '@crikit/testkit';
import { ImageReference } from './image-reference.js';
import { MediaTypes, parseImageManifest } from './image-manifest.js';
import { hostPlatform, selectPlatformManifest } from './platform-select.js';
import { RegistryClient } from './registry-client.js';
import { RegistryHosts } from './registry-hosts.js';

const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const signal = (): AbortSignal => AbortSignal.timeout(60_000);

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A registry config dir; `http(host)` makes `host` reachable over plain http, as a hosts.toml does. */
class HostsDir {
  private constructor(readonly dir: string) {}
  static async create(): Promise<HostsDir> {
    return new HostsDir(await mkdtemp(join(tmpdir(), 'crikit-image-hosts-')));
  }
  async write(host: string, toml: string): Promise<void> {
    await mkdir(join(this.dir, host), { recursive: true });
    await writeFile(join(this.dir, host, 'hosts.toml'), toml);
  }
  async http(host: string): Promise<void> {
    await this.write(host, `server = "http://${host}"\n`);
  }
  client(): RegistryClient {
    return new RegistryClient({ pullStallTimeoutMs: 30_000 }, new RegistryHosts({ registryConfigDir: this.dir }), silentLogger,
      { retry: { backoffMs: 50 } });
  }
  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

describe('RegistryClient against docker-registry', () => {
  let registry: LocalRegistry;
  let hosts: HostsDir;
  let client: RegistryClient;
  let image: BuiltImage;
  let ref: ImageReference;

  before(async () => {
    registry = await LocalRegistry.start();
    hosts = await HostsDir.create();
    await hosts.http(registry.host);
    client = hosts.client();
    image = await busyboxImage();
    await pushImage(registry, 'library/busybox', image, { tag: 'latest' });
    ref = ImageReference.parse(`${registry.host}/library/busybox:latest`);
  });
  after(async () => {
    client?.close();
    await registry?.stop();
    await hosts?.remove();
  });

  it('resolves by tag', async () => {
    assert.deepEqual(await client.resolve(ref, { signal: signal() }),
      { mediaType: image.mediaType, digest: image.manifest.digest, size: image.manifest.size });
  });

  it('resolves by digest, and by tag and digest where the digest wins', async () => {
    const byDigest = ref.withDigest(image.manifest.digest);
    assert.equal((await client.resolve(byDigest, { signal: signal() })).digest, image.manifest.digest);
    const both = ImageReference.parse(`${registry.host}/library/busybox:no-such-tag@${image.manifest.digest}`);
    assert.equal((await client.resolve(both, { signal: signal() })).digest, image.manifest.digest);
  });

  it('refuses a tag and digest whose digest the registry does not have', async () => {
    const mismatched = ImageReference.parse(`${registry.host}/library/busybox:latest@${sha256(Buffer.from('other'))}`);
    await assert.rejects(client.resolve(mismatched, { signal: signal() }), (err: unknown) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(err.message, `image "${mismatched.toString()}" not found at registry ${registry.host}`);
      return true;
    });
    await assert.rejects(client.resolve(ImageReference.parse(`${registry.host}/library/absent`), { signal: signal() }), NotFoundError);
  });

  it('fetches the manifest and streams every blob, verified', async () => {
    const desc = await client.resolve(ref, { signal: signal() });
    const bytes = await client.fetchManifest(ref, desc, { signal: signal() });
    const parsed = parseImageManifest(bytes, 'test');
    assert.equal(parsed.kind, 'manifest');
    if (parsed.kind !== 'manifest') return;
    for (const blob of [parsed.manifest.config, ...parsed.manifest.layers]) {
      const data = await readAll(await client.fetchBlob(ref, blob, { signal: signal() }));
      assert.equal(data.length, blob.size);
      assert.equal(sha256(data), blob.digest);
    }
  });

  it('resumes a blob from an offset', async () => {
    const layer = image.layers[0]!;
    const tail = await readAll(await client.fetchBlob(ref, layer, { signal: signal(), offset: 1000 }));
    assert.ok(tail.equals(layer.data.subarray(1000)));
  });

  it('selects the platform from an index', async () => {
    const index = await multiArchIndex();
    await pushIndex(registry, 'multi/busybox', index, { tag: 'v1' });
    const multi = ImageReference.parse(`${registry.host}/multi/busybox:v1`);
    const top = await client.resolve(multi, { signal: signal() });
    assert.equal(top.mediaType, MediaTypes.ociIndex);
    const parsed = parseImageManifest(await client.fetchManifest(multi, top, { signal: signal() }), 'test');
    assert.equal(parsed.kind, 'index');
    if (parsed.kind !== 'index') return;
    const arm = selectPlatformManifest(multi.toString(), parsed.index, { os: 'linux', architecture: 'arm', variant: 'v7' });
    assert.equal(arm.platform?.architecture, 'arm');
    const arm64 = selectPlatformManifest(multi.toString(), parsed.index, { os: 'linux', architecture: 'arm64' });
    assert.equal(arm64.platform?.variant, 'v8');
    const host = hostPlatform();
    if (['amd64', 'arm64', 'arm'].includes(host.architecture)) {
      const mine = selectPlatformManifest(multi.toString(), parsed.index);
      const manifest = parseImageManifest(await client.fetchManifest(multi, mine, { signal: signal() }), 'test');
      assert.equal(manifest.kind, 'manifest');
    }
    assert.throws(() => selectPlatformManifest(multi.toString(), parsed.index, { os: 'linux', architecture: 's390x' }),
      /has no manifest for platform linux\/s390x: the index lists linux\/amd64, linux\/arm64\/v8, linux\/arm\/v7/);
  });

  it('fails a blob whose stored bytes were corrupted with a digest mismatch', async () => {
    const corruptImage = await busyboxImage({ extraFiles: [{ type: 'file', path: 'etc/corrupt-me', data: 'x' }] });
    await pushImage(registry, 'corrupt/busybox', corruptImage, { tag: 'latest' });
    const corruptRef = ImageReference.parse(`${registry.host}/corrupt/busybox:latest`);
    const layer = corruptImage.layers[0]!;
    await corruptBlobInStorage(registry, layer.digest);
    const stream = await client.fetchBlob(corruptRef, layer, { signal: signal() });
    await assert.rejects(readAll(stream), (err: unknown) => {
      assert.ok(err instanceof FailedPreconditionError);
      assert.match(err.message, new RegExp(`^pull "${corruptRef.toString()}": blob ${layer.digest}: digest mismatch: registry sent sha256:`));
      return true;
    });
  });
});

describe('RegistryClient with mirrors from hosts.toml', () => {
  let server: LocalRegistry;
  let mirror: LocalRegistry;
  let hosts: HostsDir;
  let image: BuiltImage;

  before(async () => {
    [server, mirror] = await Promise.all([LocalRegistry.start(), LocalRegistry.start()]);
    hosts = await HostsDir.create();
    image = await busyboxImage({ extraFiles: [{ type: 'file', path: 'etc/mirrored', data: 'yes' }] });
    // Only the mirror has the image: a pull that succeeds went through it.
    await pushImage(mirror, 'library/busybox', image, { tag: 'mirrored' });
  });
  after(async () => {
    await server?.stop();
    await mirror?.stop();
    await hosts?.remove();
  });

  it('pulls through a mirror, skipping one that is down', async () => {
    const down = `127.0.0.1:${await freePort()}`;
    await hosts.write(server.host, [
      `server = "http://${server.host}"`,
      `[host."http://${down}"]`, '  capabilities = ["pull", "resolve"]',
      `[host."http://${mirror.host}"]`, '  capabilities = ["pull", "resolve"]', '',
    ].join('\n'));
    const client = hosts.client();
    try {
      const ref = ImageReference.parse(`${server.host}/library/busybox:mirrored`);
      const desc = await client.resolve(ref, { signal: signal() });
      assert.equal(desc.digest, image.manifest.digest);
      await client.fetchManifest(ref, desc, { signal: signal() });
      const layer = image.layers[0]!;
      assert.equal(sha256(await readAll(await client.fetchBlob(ref, layer, { signal: signal() }))), layer.digest);
    } finally {
      client.close();
    }
  });
});

describe('RegistryClient with htpasswd authentication', () => {
  let registry: LocalRegistry;
  let hosts: HostsDir;
  let ref: ImageReference;
  let image: BuiltImage;

  before(async () => {
    registry = await LocalRegistry.start({ htpasswd: { user: 'puller', password: 's3cret' } });
    hosts = await HostsDir.create();
    await hosts.http(registry.host);
    image = await busyboxImage();
    await pushImage(registry, 'library/busybox', image, { tag: 'latest' });
    ref = ImageReference.parse(`${registry.host}/library/busybox:latest`);
  });
  after(async () => {
    await registry?.stop();
    await hosts?.remove();
  });

  it('refuses a pull without credentials, naming the registry', async () => {
    const client = hosts.client();
    try {
      await assert.rejects(client.resolve(ref, { signal: signal() }), (err: unknown) => {
        assert.ok(err instanceof FailedPreconditionError);
        assert.equal(err.message, `pull "${registry.host}/library/busybox:latest": registry ${registry.host} answered 401: authentication required`);
        return true;
      });
      await assert.rejects(client.resolve(ref, { signal: signal(), credentials: { username: 'puller', password: 'wrong' } }),
        (err: unknown) => errorKind(err) === 'failed-precondition');
    } finally {
      client.close();
    }
  });

  it('pulls with basic credentials', async () => {
    const client = hosts.client();
    try {
      const credentials = { username: 'puller', password: 's3cret' };
      const desc = await client.resolve(ref, { signal: signal(), credentials });
      assert.equal(desc.digest, image.manifest.digest);
      const layer = image.layers[0]!;
      assert.equal(sha256(await readAll(await client.fetchBlob(ref, layer, { signal: signal(), credentials }))), layer.digest);
    } finally {
      client.close();
    }
  });
});

describe('RegistryClient when the registry fails', () => {
  let registry: LocalRegistry;
  let hosts: HostsDir;

  before(async () => {
    registry = await LocalRegistry.start();
    hosts = await HostsDir.create();
    await hosts.http(registry.host);
  });
  after(async () => {
    await registry?.stop();
    await hosts?.remove();
  });

  it('retries a 503 from a proxy in front of the registry', async () => {
    const image = await busyboxImage();
    await pushImage(registry, 'library/busybox', image, { tag: 'latest' });
    const proxy = await failingProxy(registry.port, 1);
    const proxyHost = `127.0.0.1:${(proxy.server.address() as AddressInfo).port}`;
    await hosts.http(proxyHost);
    const client = hosts.client();
    try {
      const ref = ImageReference.parse(`${proxyHost}/library/busybox:latest`);
      assert.equal((await client.resolve(ref, { signal: signal() })).digest, image.manifest.digest);
      assert.deepEqual(proxy.statuses.slice(0, 2), [503, 200]);
    } finally {
      client.close();
      await new Promise(resolve => proxy.server.close(resolve));
    }
  });

  it('fails a blob download after retries when the registry stops mid-blob', async () => {
    const big = await randomLayersImage({ layers: 1, bytesPerLayer: 48 * 1024 * 1024, seed: 'mid-blob' });
    await pushImage(registry, 'big/random', big, { tag: 'latest' });
    const client = hosts.client();
    try {
      const ref = ImageReference.parse(`${registry.host}/big/random:latest`);
      const layer = big.layers[0]!;
      const stream = await client.fetchBlob(ref, layer, { signal: signal() });
      const iterator = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      let received = (await iterator.next()).value?.length ?? 0;
      // Stop reading so the registry cannot have sent it all, then kill it.
      await registry.stopProcess();
      await assert.rejects((async () => {
        for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) received += next.value.length;
      })(), (err: unknown) => {
        assert.ok(err instanceof UnavailableError, String(err));
        assert.match(err.message, new RegExp(`^pull "${ref.toString()}": blob ${layer.digest}: registry ${registry.host} unreachable: connect ECONNREFUSED`));
        return true;
      });
      assert.ok(received > 0 && received < layer.size, `received ${received} of ${layer.size}`);
    } finally {
      client.close();
      await registry.restart();
    }
  });
});

/** An HTTP proxy to 127.0.0.1:`port` that answers the first `failures` requests with 503. */
async function failingProxy(port: number, failures: number): Promise<{ server: Server; statuses: number[] }> {
  const statuses: number[] = [];
  let left = failures;
  const server = createServer((req, res) => {
    if (left > 0) {
      left--;
      statuses.push(503);
      req.resume();
      res.writeHead(503, { 'content-type': 'text/plain' }).end('try again later');
      return;
    }
    const upstream = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, up => {
      statuses.push(up.statusCode ?? 0);
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return { server, statuses };
}
