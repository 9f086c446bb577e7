import { ContainerModule } from 'inversify';

/**
 * Binds container lifecycle and OCI specs (core's ContainerManager).
 * Empty until that capability lands; the server loads it already so the composition does not change.
 */
export const containerModule = new ContainerModule(() => {});
