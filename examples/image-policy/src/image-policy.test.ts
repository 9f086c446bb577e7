// crikit with the image policy bound over its image service, on real containerd, driven through the
// CRI socket: a listed registry pulls, any other is refused with PERMISSION_DENIED and never contacted.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { ImageService } from '@crikit/core';
import { ContainerdImageService } from '@crikit/image';
import { createRuntime, type CriRuntime } from '@crikit/server';
import type { LocalRegistry } from '@crikit/testkit';
import { imageClient } from './cri-client.js';
import { RegistryPolicyImageService } from './registry-policy-image-service.js';
import { countingTcpProxy, plainHttpHost, registryWithBusybox, testDirs, type CountingTcpProxy } from './test-node.js';

const dirs = testDirs();
let allowed: LocalRegistry;
let other: LocalRegistry;
let otherProxy: CountingTcpProxy;
let policy: RegistryPolicyImageService;
let runtime: CriRuntime;
let images: ReturnType<typeof imageClient>;

before(async () => {
  allowed = await registryWithBusybox();
  other = await registryWithBusybox();
  // Every connection to the other registry goes through this proxy, so the test sees any request.
  otherProxy = await countingTcpProxy(other.port);
  plainHttpHost(dirs.hostsDir, allowed.host, allowed.url);
  plainHttpHost(dirs.hostsDir, otherProxy.host, `http://${otherProxy.host}`);

  runtime = createRuntime({ config: dirs.config });
  runtime.container.rebind(ImageService).toDynamicValue(ctx => {
    policy = new RegistryPolicyImageService(ctx.get(ContainerdImageService), [allowed.host]);
    return policy;
  }).inSingletonScope();
  await runtime.start(AbortSignal.timeout(60_000));
  images = imageClient(runtime.socket);
});

after(async () => {
  images?.close();
  await runtime?.stop(AbortSignal.timeout(20_000));
  await otherProxy?.close();
  await allowed?.stop();
  await other?.stop();
  dirs.cleanup();
});

/** Asserts that `call` fails with gRPC `code` and a message matching `message`. */
async function rejectsWith(call: Promise<unknown>, code: status, message: RegExp): Promise<void> {
  await assert.rejects(call, (err: ServiceError) => {
    assert.equal(err.code, code, `${status[err.code]}: ${err.details}`);
    assert.match(err.details, message);
    return true;
  });
}

test('a listed registry pulls as usual', async () => {
  const ref = `${allowed.host}/busybox:1`;
  const pulled = await images.pull(ref);
  assert.match(pulled.imageRef, /^sha256:[0-9a-f]{64}$/);
  const found = await images.status(ref);
  assert.deepEqual(found.image?.repoTags, [ref]);
});

test('another registry is refused with PERMISSION_DENIED and never contacted', async () => {
  const ref = `${otherProxy.host}/busybox:1`;
  await rejectsWith(images.pull(ref), status.PERMISSION_DENIED, new RegExp(`registry "${otherProxy.host}" is not allowed`));
  assert.equal(otherProxy.connections(), 0, 'no connection reached the registry');
  assert.equal((await images.status(ref)).image, undefined);
});

test('docker.io is refused too, before any lookup (no network needed)', async () => {
  await rejectsWith(images.pull('busybox'), status.PERMISSION_DENIED, /pull image "busybox": registry "docker.io" is not allowed/);
});

test('a malformed reference is still INVALID_ARGUMENT', async () => {
  await rejectsWith(images.pull('Not A Reference'), status.INVALID_ARGUMENT, /Not A Reference/);
});

// The control for the refusal test: the proxy does see a pull once the policy lets it through.
test('once its registry is allowed, the same pull goes through the proxy and succeeds', async () => {
  const ref = `${otherProxy.host}/busybox:1`;
  policy.allow(otherProxy.host);
  await images.pull(ref);
  assert.ok(otherProxy.connections() > 0, 'the pull reached the registry through the proxy');
  // The same busybox image as the first pull: one image, now with both tags.
  assert.ok((await images.status(ref)).image?.repoTags.includes(ref));
});
