import { ContainerModule } from 'inversify';
import { ContainerdClient, Startable } from '@crikit/core';
import { ConfiguredContainerdAddress } from './configured-containerd-address.js';
import { ContainerdAddress } from './containerd-address.js';
import { GrpcContainerdClient } from './grpc-containerd-client.js';
import { ManagedContainerd } from './managed-containerd.js';
import { OrphanShimSweep } from './orphan-shims.js';

/**
 * Binds the containerd package: ManagedContainerd, the address provider, GrpcContainerdClient as core's
 * ContainerdClient, and both as Startables (containerd first, then the client), and the start-up
 * OrphanShimSweep. Singletons.
 *
 * Expects `ContainerdConfig` and core's `Logger` to be bound (the server binds config slices); binding
 * `ManagedContainerdOptions` is optional. Each default is bound `toSelf()` and its token points at it
 * with `toService()`, so an embedder can decorate or replace it.
 */
export const containerdModule = new ContainerModule(options => {
  options.bind(ManagedContainerd).toSelf().inSingletonScope();
  options.bind(ConfiguredContainerdAddress).toSelf().inSingletonScope();
  options.bind(ContainerdAddress).toService(ConfiguredContainerdAddress);
  options.bind(GrpcContainerdClient).toSelf().inSingletonScope();
  options.bind(ContainerdClient).toService(GrpcContainerdClient);
  // ManagedContainerd.start is a no-op unless `address` is `managed`.
  options.bind(Startable).toService(ManagedContainerd);
  options.bind(Startable).toService(GrpcContainerdClient);
  options.bind(OrphanShimSweep).toSelf().inSingletonScope();
  options.bind(Startable).toService(OrphanShimSweep);
});
