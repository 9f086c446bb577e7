// PullImage against images whose manifest names a hostile config (issue 11, defect 7), from the
// real docker-registry through the CRI socket: not JSON, not an image config type, too large.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { blobOf, busyboxImage, descriptorOf, jsonBlob, pushImage, type Blob, type BuiltImage } from '@crikit/testkit';
import { criClient, type CriClient } from '../support/cri-client.js';
import { stopRuntimeAndPods } from '../support/pod-cleanup.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { testLogger } from '../support/test-logger.js';

let env: PodTestEnv;
let runtime: CriRuntime;
let c: CriClient;
let base: BuiltImage;

before(async () => {
  env = await podTestEnv(95);
  runtime = createRuntime({ logger: testLogger(), config: env.config });
  await runtime.start(AbortSignal.timeout(60_000));
  c = criClient(runtime.socket);
  base = await busyboxImage();
});
after(async () => {
  c?.close();
  await stopRuntimeAndPods(runtime);
  await env?.cleanup();
});

/** `base` with its config replaced by `config`, pushed as `<repo>:1`; returns the reference. */
async function pushWithConfig(repo: string, config: Blob): Promise<string> {
  const manifest = jsonBlob({ schemaVersion: 2, mediaType: base.mediaType, config: descriptorOf(config), layers: base.layers.map(descriptorOf) }, base.mediaType);
  await pushImage({ url: env.registry.url }, repo, { ...base, config, manifest }, { tag: '1' });
  return `${env.registry.host}/${repo}:1`;
}

async function pullFails(image: string, message: RegExp): Promise<void> {
  await assert.rejects(c.image.pullImage({ image: { image } }), (err: { code?: number; details?: string }) => {
    assert.equal(err.code, status.FAILED_PRECONDITION, String(err.details));
    assert.match(err.details ?? '', message);
    return true;
  });
  assert.equal((await c.image.imageStatus({ image: { image } })).image, undefined);
}

test('a config that is not JSON is refused with FAILED_PRECONDITION naming it', async () => {
  const config = blobOf(Buffer.from('\u0000 this is not json {'), base.config.mediaType);
  await pullFails(await pushWithConfig('notjson', config), new RegExp(`config ${config.digest} is not JSON`));
});

test('a config whose media type is not JSON is refused before it is downloaded', async () => {
  const config = blobOf(base.config.data, 'application/octet-stream');
  await pullFails(await pushWithConfig('octet', config), /media type "application\/octet-stream", not a JSON image config/);
});

test('a config above 8 MiB is refused, even when it is a valid image config', async () => {
  const parsed = JSON.parse(base.config.data.toString()) as Record<string, unknown>;
  const config = jsonBlob({ ...parsed, comment: 'x'.repeat(9 * 1024 * 1024) }, base.config.mediaType);
  await pullFails(await pushWithConfig('huge', config), /more than the 8388608 allowed/);
});

test('the same image with its own config still pulls', async () => {
  const image = await pushWithConfig('plain', base.config);
  const { imageRef } = await c.image.pullImage({ image: { image } });
  assert.equal(imageRef, base.config.digest);
});
