import { ContainerModule } from 'inversify';

/**
 * Binds the Exec/Attach/PortForward streaming server (core's StreamingServer).
 * Empty until that capability lands; the server loads it already so the composition does not change.
 */
export const streamingModule = new ContainerModule(() => {});
