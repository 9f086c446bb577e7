import { ContainerModule } from 'inversify';

/**
 * Binds CRI log files (core's ContainerLogWriter).
 * Empty until that capability lands; the server loads it already so the composition does not change.
 */
export const loggingModule = new ContainerModule(() => {});
