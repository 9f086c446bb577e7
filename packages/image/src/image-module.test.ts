import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Container } from 'inversify';
import { ContainerdClient, coreModule, ImageLookup, ImageService, Logger, silentLogger, Startable } from '@crikit/core';
import { FakeContainerd } from '@crikit/core/testing';
import { ContainerdImageService } from './containerd-image-service.js';
import { ImageConfig, imageConfigSchema } from './image-config.js';
import { imageModule } from './image-module.js';
import { ImageRecovery } from './image-recovery.js';
import { RegistryClient, RegistryClientOptions } from './registry-client.js';
import { RegistryHosts } from './registry-hosts.js';

function containerWith(bind?: (c: Container) => void): Container {
  const container = new Container();
  container.bind(ImageConfig).toConstantValue(imageConfigSchema.parse({}));
  container.bind(Logger).toConstantValue(silentLogger);
  container.bind(ContainerdClient).toConstantValue(new FakeContainerd());
  bind?.(container);
  container.load(coreModule, imageModule);
  return container;
}

describe('imageModule', () => {
  it('resolves every token it binds, as singletons', () => {
    const container = containerWith();
    const client = container.get<RegistryClient>(RegistryClient);
    assert.equal(container.get(RegistryClient), client);
    assert.ok(container.get(RegistryHosts) instanceof RegistryHosts);
    const service = container.get(ImageService);
    assert.ok(service instanceof ContainerdImageService);
    assert.equal(container.get(ImageLookup), service, 'one service behind both contracts');
    assert.ok(container.getAll(Startable).some(s => s instanceof ImageRecovery));
    client.close();
  });

  it('takes optional client options when bound', () => {
    const container = containerWith(c => c.bind(RegistryClientOptions).toConstantValue({ retry: { tries: 1 } }));
    assert.ok(container.get(RegistryClient) instanceof RegistryClient);
  });
});
