import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Container } from 'inversify';
import { Logger, silentLogger } from '@crikit/core';
import { ImageConfig, imageConfigSchema } from './image-config.js';
import { RegistryClient, RegistryClientOptions } from './registry-client.js';
import { RegistryHosts } from './registry-hosts.js';
import { registryModule } from './registry-module.js';

function containerWith(bind?: (c: Container) => void): Container {
  const container = new Container();
  container.bind(ImageConfig).toConstantValue(imageConfigSchema.parse({}));
  container.bind(Logger).toConstantValue(silentLogger);
  bind?.(container);
  container.load(registryModule);
  return container;
}

describe('registryModule', () => {
  it('resolves every token it binds, as singletons', () => {
    const container = containerWith();
    const client = container.get<RegistryClient>(RegistryClient);
    assert.ok(client instanceof RegistryClient);
    assert.equal(container.get(RegistryClient), client);
    const hosts = container.get<RegistryHosts>(RegistryHosts);
    assert.ok(hosts instanceof RegistryHosts);
    assert.equal(container.get(RegistryHosts), hosts);
    client.close();
  });

  it('takes optional client options when bound', () => {
    const container = containerWith(c => c.bind(RegistryClientOptions).toConstantValue({ retry: { tries: 1 } }));
    assert.ok(container.get(RegistryClient) instanceof RegistryClient);
  });
});
