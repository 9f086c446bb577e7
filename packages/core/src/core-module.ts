import { ContainerModule } from 'inversify';
import { ContainerdEventMonitor } from './events/containerd-event-monitor.js';
import { RuntimeEventBus } from './events/runtime-events.js';
import { Startable } from './contracts/startable.js';
import { UndoRetries } from './containerd/undo-retries.js';
import { ContainerStore } from './stores/container-store.js';
import { ImageStore } from './stores/image-store.js';
import { SandboxStore } from './stores/sandbox-store.js';
import { ProcessRunner } from './contracts/process-runner.js';
import { SpawnHelper } from './util/spawn-helper.js';

/**
 * Binds what core itself provides, each as a singleton: the RuntimeEventBus and the sandbox,
 * container and image stores (each class is its own token), and the ProcessRunner, a SpawnHelper
 * started and stopped with the runtime. The bus needs `Logger`, which the server binds.
 */
export const coreModule = new ContainerModule(options => {
  options.bind(RuntimeEventBus).toSelf().inSingletonScope();
  options.bind(SandboxStore).toSelf().inSingletonScope();
  options.bind(ContainerStore).toSelf().inSingletonScope();
  options.bind(ImageStore).toSelf().inSingletonScope();
  options.bind(ContainerdEventMonitor).toSelf().inSingletonScope();
  options.bind(Startable).toService(ContainerdEventMonitor);
  options.bind(SpawnHelper).toSelf().inSingletonScope();
  options.bind(ProcessRunner).toService(SpawnHelper);
  options.bind(Startable).toService(SpawnHelper);
  options.bind(UndoRetries).toSelf().inSingletonScope();
  options.bind(Startable).toService(UndoRetries);
});
