import { ContainerModule } from 'inversify';
import { ContainerManager, ContainerStreams, RuntimeFeatures, Startable } from '@crikit/core';
import { AttachHub } from './attach-hub.js';
import { ContainerCreator } from './container-create.js';
import { ContainerExec } from './container-exec.js';
import { ContainerExits } from './container-exits.js';
import { ContainerIo } from './container-io.js';
import { ContainerLifecycle } from './container-lifecycle.js';
import { ContainerRecovery } from './container-recovery.js';
import { ContainerdContainerManager } from './containerd-container-manager.js';
import { ContainerdContainerStreams } from './containerd-container-streams.js';
import { HostFactsProvider } from './host-facts-provider.js';
import { FeatureSources, HostFeatureSources } from './runtime-features/feature-sources.js';
import { ProbedRuntimeFeatures } from './runtime-features/probed-runtime-features.js';

/** Binds containers on containerd behind core's ContainerManager, with exit tracking and recovery, and the runtime features probe. */
export const containerModule = new ContainerModule(options => {
  options.bind(HostFactsProvider).toSelf().inSingletonScope();
  options.bind(Startable).toService(HostFactsProvider);
  options.bind(FeatureSources).to(HostFeatureSources).inSingletonScope();
  options.bind(ProbedRuntimeFeatures).toSelf().inSingletonScope();
  options.bind(RuntimeFeatures).toService(ProbedRuntimeFeatures);
  options.bind(Startable).toService(ProbedRuntimeFeatures);
  options.bind(ContainerIo).toSelf().inSingletonScope();
  options.bind(ContainerCreator).toSelf().inSingletonScope();
  options.bind(ContainerExits).toSelf().inSingletonScope();
  options.bind(Startable).toService(ContainerExits);
  options.bind(ContainerLifecycle).toSelf().inSingletonScope();
  options.bind(ContainerExec).toSelf().inSingletonScope();
  options.bind(ContainerRecovery).toSelf().inSingletonScope();
  options.bind(Startable).toService(ContainerRecovery);
  options.bind(ContainerdContainerManager).toSelf().inSingletonScope();
  options.bind(ContainerManager).toService(ContainerdContainerManager);
  options.bind(AttachHub).toSelf().inSingletonScope();
  options.bind(ContainerdContainerStreams).toSelf().inSingletonScope();
  options.bind(ContainerStreams).toService(ContainerdContainerStreams);
});
