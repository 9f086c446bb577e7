import { ContainerModule } from 'inversify';
import { ContainerdEventMonitor } from './events/containerd-event-monitor.js';
import { RuntimeEventBus } from './events/runtime-events.js';
import { Startable } from './contracts/startable.js';
import { UndoRetries } from './containerd/undo-retries.js';
import { ContainerStore } from './stores/container-store.js';
import { ImageStore } from './stores/image-store.js';
import { SandboxStore } from './stores/sandbox-store.js';

/**
 * Binds what core itself provides, each as a singleton: the RuntimeEventBus and the sandbox,
 * container and image stores (each class is its own token). The bus needs `Logger`, which the
 * server binds.
 */
export const coreModule = new ContainerModule(options => {
  options.bind(RuntimeEventBus).toSelf().inSingletonScope();
  options.bind(SandboxStore).toSelf().inSingletonScope();
  options.bind(ContainerStore).toSelf().inSingletonScope();
  options.bind(ImageStore).toSelf().inSingletonScope();
  options.bind(ContainerdEventMonitor).toSelf().inSingletonScope();
  options.bind(Startable).toService(ContainerdEventMonitor);
  options.bind(UndoRetries).toSelf().inSingletonScope();
  options.bind(Startable).toService(UndoRetries);
});
