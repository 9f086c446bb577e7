import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Container } from 'inversify';
import { ContainerdClient, Logger, silentLogger, Startable, StartOrder } from '@crikit/core';
import { ConfiguredContainerdAddress } from './configured-containerd-address.js';
import { ContainerdAddress } from './containerd-address.js';
import { ContainerdConfig, containerdConfigSchema } from './containerd-config.js';
import { containerdModule } from './containerd-module.js';
import { GrpcContainerdClient } from './grpc-containerd-client.js';
import { ManagedContainerd, ManagedContainerdOptions } from './managed-containerd.js';
import { OrphanShimSweep } from './orphan-shims.js';

function containerWith(input: unknown): Container {
  const container = new Container();
  container.bind(ContainerdConfig).toConstantValue(containerdConfigSchema.parse(input));
  container.bind(Logger).toConstantValue(silentLogger);
  container.load(containerdModule);
  return container;
}

describe('containerdModule', () => {
  it('resolves every token it binds, as singletons', () => {
    const container = containerWith({});
    const client = container.get<GrpcContainerdClient>(GrpcContainerdClient);
    assert.ok(client instanceof GrpcContainerdClient);
    assert.equal(container.get(ContainerdClient), client);
    assert.equal(container.get<GrpcContainerdClient>(GrpcContainerdClient), client);
    assert.ok(container.get(ManagedContainerd) instanceof ManagedContainerd);
    assert.ok(container.get(ConfiguredContainerdAddress) instanceof ConfiguredContainerdAddress);
    assert.equal(container.get(ContainerdAddress), container.get(ConfiguredContainerdAddress));
    assert.equal(client.namespace, 'k8s.io');
  });

  it('binds the managed containerd, the client and the orphan shim sweep as Startables, in start order', () => {
    const container = containerWith({});
    const startables = container.getAll<Startable>(Startable);
    assert.equal(startables.length, 3);
    assert.ok(startables.includes(container.get<ManagedContainerd>(ManagedContainerd)));
    assert.ok(startables.includes(container.get<GrpcContainerdClient>(GrpcContainerdClient)));
    assert.ok(startables.includes(container.get<OrphanShimSweep>(OrphanShimSweep)));
    const orders = startables.map(s => s.startOrder).sort((a, b) => a - b);
    assert.deepEqual(orders, [StartOrder.containerd, StartOrder.containerdClient, StartOrder.recovery + 6]);
  });

  it('points the client at the managed socket, or at the configured one', () => {
    const managed = containerWith({ managed: { stateDir: '/tmp/ctd/state' } });
    assert.equal(managed.get<ContainerdAddress>(ContainerdAddress).socketPath, '/tmp/ctd/state/containerd.sock');
    const external = containerWith({ address: 'unix:///run/containerd/containerd.sock' });
    assert.equal(external.get<ContainerdAddress>(ContainerdAddress).socketPath, '/run/containerd/containerd.sock');
    assert.equal(external.get<ManagedContainerd>(ManagedContainerd).enabled, false);
  });

  it('does nothing at start when the address is not managed', async () => {
    const container = containerWith({ address: '/nonexistent/containerd.sock' });
    const managed = container.get<ManagedContainerd>(ManagedContainerd);
    await managed.start(AbortSignal.timeout(1_000));
    assert.equal(managed.pid, undefined);
    await managed.stop(AbortSignal.timeout(1_000));
  });

  it('takes ManagedContainerdOptions when bound', () => {
    const container = containerWith({});
    container.bind(ManagedContainerdOptions).toConstantValue({ plugins: {} });
    assert.ok(container.get(ManagedContainerd) instanceof ManagedContainerd);
  });
});
