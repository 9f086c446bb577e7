import { ContainerModule } from 'inversify';

/**
 * Binds pod sandbox lifecycle (core's SandboxManager).
 * Empty until that capability lands; the server loads it already so the composition does not change.
 */
export const sandboxModule = new ContainerModule(() => {});
