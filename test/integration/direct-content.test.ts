// Pulls that write layers into containerd's content store directory themselves (image.directContentWrite,
// on with the managed containerd), against the real docker-registry and a private containerd, through
// the CRI socket.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chainIds } from '@crikit/image';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { busyboxImage, corruptBlobInStorage, pushImage, type LocalRegistry } from '@crikit/testkit';
import { criClient, type CriClient } from '../support/cri-client.js';
import { tempRuntimeDirs } from '../support/crikitd.js';
import { containerdPeek } from '../support/containerd-peek.js';
import { countingProxy, type CountingProxy } from '../support/counting-proxy.js';
import { startRegistry, writeHostsToml } from '../support/registry-fixture.js';

const dirs = tempRuntimeDirs();
const hostsDir = path.join(dirs.dir, 'certs.d');
const config = { ...dirs.config, image: { registryConfigDir: hostsDir } };
const containerdRoot = (dirs.config.containerd as { managed: { rootDir: string } }).managed.rootDir;
const contentDir = path.join(containerdRoot, 'io.containerd.content.v1.content');
const ingestDir = path.join(contentDir, 'crikit-ingest');
const socketOfContainerd = path.join(dirs.dir, 'cs', 'containerd.sock');
let runtime: CriRuntime;
let cri: CriClient;
let registry: LocalRegistry;
let proxy: CountingProxy;

const blobFile = (digest: string) => path.join(contentDir, 'blobs', 'sha256', digest.slice('sha256:'.length));
const ingestLeft = () => (existsSync(ingestDir) ? readdirSync(ingestDir) : []);
const uniqueImage = (name: string) => busyboxImage({ extraLayers: [[{ type: 'file', path: `etc/${name}`, data: `${name}\n` }]] });

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

test('each layer is in the content store directory with its digest; containerd records it in the namespace and unpacks it', async () => {
  const img = await uniqueImage('direct');
  await pushImage({ url: registry.url }, 'library/direct', img, { tag: '1' });
  const ref = `${proxy.host}/library/direct:1`;
  // While a layer's bytes pass the proxy, crikit's download file for it is there in the ingest directory.
  const downloading = new Set<string>();
  proxy.onBlobBytes = () => { for (const name of ingestLeft()) downloading.add(`sha256:${name.split('-')[0]}`); };
  try {
    const { imageRef } = await cri.image.pullImage({ image: { image: ref } });
    assert.equal(imageRef, img.config.digest);
  } finally {
    proxy.onBlobBytes = undefined;
  }
  assert.deepEqual([...downloading].sort(), img.layers.map(l => l.digest).sort(), 'every layer was downloaded into the content store directory');
  for (const layer of img.layers) {
    const bytes = readFileSync(blobFile(layer.digest));
    assert.equal(`sha256:${createHash('sha256').update(bytes).digest('hex')}`, layer.digest);
  }
  assert.deepEqual(ingestLeft(), []);
  const peek = await containerdPeek(socketOfContainerd);
  try {
    for (const [i, layer] of img.layers.entries()) {
      const { info } = await peek.content.info({ digest: layer.digest });
      assert.equal(Number(info?.size), layer.size);
      assert.equal(info?.labels['containerd.io/uncompressed'], img.diffIds[i], 'the labels of the commit are there');
    }
    const top = chainIds(img.diffIds).at(-1)!;
    const { info } = await peek.snapshots.stat({ snapshotter: 'overlayfs', key: top });
    assert.equal(info?.name, top, 'the layers are unpacked');
    const { statuses } = await peek.content.listStatuses({ filters: [] });
    assert.deepEqual(statuses.map(s => s.ref), [], 'no ingest left open');
  } finally {
    peek.close();
  }
});

test('a layer whose bytes do not match its digest: the pull fails naming it, and no file of it is left', async () => {
  const img = await uniqueImage('direct-corrupt');
  await pushImage({ url: registry.url }, 'library/direct-corrupt', img, { tag: '1' });
  const bad = img.layers[1]!.digest;
  await corruptBlobInStorage(registry, bad);
  await assert.rejects(cri.image.pullImage({ image: { image: `${registry.host}/library/direct-corrupt:1` } }),
    (err: { details: string }) => err.details.includes(bad));
  assert.equal(existsSync(blobFile(bad)), false);
  assert.deepEqual(ingestLeft(), []);
});

test('what a killed download left in the ingest directory is removed at start-up', async () => {
  mkdirSync(ingestDir, { recursive: true });
  writeFileSync(path.join(ingestDir, 'deadbeef-000000'), 'half a layer');
  cri.close();
  await runtime.stop(AbortSignal.timeout(30_000));
  runtime = createRuntime({ config });
  await runtime.start(AbortSignal.timeout(60_000));
  cri = criClient(runtime.socket);
  assert.deepEqual(ingestLeft(), []);
});
