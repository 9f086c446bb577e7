import { ContainerModule } from 'inversify';
import { RegistryClient } from './registry-client.js';
import { RegistryHosts } from './registry-hosts.js';

/**
 * Binds the registry side of the image service: `RegistryHosts` (hosts.toml endpoints) and
 * `RegistryClient` (the distribution client), both singletons bound `toSelf()`, so an embedder can
 * `rebindSync` either (a different endpoint source, a decorating client).
 *
 * Expects `ImageConfig` and core's `Logger` to be bound; `RegistryClientOptions` is optional.
 */
export const registryModule = new ContainerModule(options => {
  options.bind(RegistryHosts).toSelf().inSingletonScope();
  options.bind(RegistryClient).toSelf().inSingletonScope();
});
