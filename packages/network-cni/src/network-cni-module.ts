import { ContainerModule } from 'inversify';
import { Startable } from '@crikit/core';
import { CniConfigWatcher } from './cni-config-watcher.js';

/** Binds CNI networking: the conf dir watcher (the pod network itself lands with sandboxes). */
export const networkCniModule = new ContainerModule(options => {
  options.bind(CniConfigWatcher).toSelf().inSingletonScope();
  options.bind(Startable).toService(CniConfigWatcher);
});
