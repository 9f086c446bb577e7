import { ContainerModule } from 'inversify';

/**
 * Binds container and pod stats (core's StatsCollector).
 * Empty until that capability lands; the server loads it already so the composition does not change.
 */
export const metricsModule = new ContainerModule(() => {});
