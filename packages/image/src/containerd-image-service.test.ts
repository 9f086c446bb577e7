import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cri } from '@crikit/api';
import { ImageStore, RuntimeEventBus, silentLogger, type ImageRecord } from '@crikit/core';
import { digestOf, FakeContainerd, imageRecord } from '@crikit/core/testing';
import { ContainerdImageService } from './containerd-image-service.js';
import { imageConfigSchema } from './image-config.js';
import { ImageFsUsage } from './image-fs-usage.js';
import { ImagePuller } from './image-puller.js';
import type { ImageReference } from './image-reference.js';
import type { RegistryCredentials } from './registry-auth.js';
import { RegistryClient } from './registry-client.js';

/** An ImagePuller whose pulls wait until released, recording the credentials each was started with. */
class HeldPuller extends ImagePuller {
  readonly started: (RegistryCredentials | undefined)[] = [];
  readonly pins: boolean[] = [];
  private release: () => void = () => undefined;
  private readonly gate = new Promise<void>(resolve => { this.release = resolve; });

  constructor() {
    const config = imageConfigSchema.parse({});
    const containerd = new FakeContainerd();
    super(new RegistryClient(config, { endpoints: async () => [] }, silentLogger), containerd, config, new RuntimeEventBus(silentLogger), silentLogger);
  }

  override async pull(ref: ImageReference, options: { credentials: RegistryCredentials | undefined; pin: boolean }): Promise<ImageRecord> {
    this.started.push(options.credentials);
    this.pins.push(options.pin);
    await this.gate;
    // One reference is one image id, as from a real registry.
    return imageRecord({ metadata: { id: digestOf(ref.toString()) }, status: { repoTags: [ref.toString()], pinned: options.pin } } as never);
  }

  finish(): void {
    this.release();
  }
}

test('concurrent pulls share one pull only when their credentials match', async () => {
  const puller = new HeldPuller();
  const config = imageConfigSchema.parse({});
  const containerd = new FakeContainerd();
  const service = new ContainerdImageService(puller, new ImageStore(), containerd, new ImageFsUsage(containerd, config),
    new RuntimeEventBus(silentLogger), silentLogger);
  const signal = AbortSignal.timeout(10_000);
  const alice = cri.AuthConfig.fromPartial({ username: 'alice', password: 'secret' });
  const pulls = [
    service.pull('registry.test/app:1', { auth: alice }, signal),
    service.pull('registry.test/app:1', { auth: cri.AuthConfig.fromPartial({ username: 'alice', password: 'secret' }) }, signal),
    service.pull('registry.test/app:1', {}, signal),
    service.pull('registry.test/app:1', { auth: cri.AuthConfig.fromPartial({ username: 'alice', password: 'other' }) }, signal),
  ];
  await new Promise(r => setImmediate(r));
  // Alice's two pulls share one; the anonymous pull and the other password each get their own.
  assert.deepEqual(puller.started.map(c => c?.password), ['secret', undefined, 'other']);
  puller.finish();
  await Promise.all(pulls);
});

test('a pinned pull never joins an unpinned one, so the pin it asks for is not lost', async () => {
  const puller = new HeldPuller();
  const config = imageConfigSchema.parse({});
  const containerd = new FakeContainerd();
  const store = new ImageStore();
  const service = new ContainerdImageService(puller, store, containerd, new ImageFsUsage(containerd, config),
    new RuntimeEventBus(silentLogger), silentLogger);
  const signal = AbortSignal.timeout(10_000);
  const unpinned = service.pull('registry.test/pause:3', {}, signal);
  const pinned = service.pull('registry.test/pause:3', { pin: true }, signal);
  await new Promise(r => setImmediate(r));
  assert.deepEqual(puller.pins, [false, true]);
  puller.finish();
  const [, record] = await Promise.all([unpinned, pinned]);
  assert.equal(record.status.pinned, true);
  assert.deepEqual(store.list().map(i => i.status.pinned), [true]);
});
