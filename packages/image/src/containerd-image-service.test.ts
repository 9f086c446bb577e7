import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cri } from '@crikit/api';
import { ImageStore, RuntimeEventBus, silentLogger, type ImageRecord } from '@crikit/core';
import { FakeContainerd, imageRecord } from '@crikit/core/testing';
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
  private release: () => void = () => undefined;
  private readonly gate = new Promise<void>(resolve => { this.release = resolve; });

  constructor() {
    const config = imageConfigSchema.parse({});
    const containerd = new FakeContainerd();
    super(new RegistryClient(config, { endpoints: async () => [] }, silentLogger), containerd, config, new RuntimeEventBus(silentLogger), silentLogger);
  }

  override async pull(ref: ImageReference, options: { credentials: RegistryCredentials | undefined; pin: boolean }): Promise<ImageRecord> {
    this.started.push(options.credentials);
    await this.gate;
    return imageRecord({ status: { repoTags: [ref.toString()] } } as never);
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
