import { ContainerModule } from 'inversify';
import { PodNetwork, Startable } from '@crikit/core';
import { CniConfigWatcher } from './cni-config-watcher.js';
import { CniPodNetwork } from './cni-pod-network.js';

/** Binds CNI networking: the conf dir watcher and the CNI pod network behind core's PodNetwork. */
export const networkCniModule = new ContainerModule(options => {
  options.bind(CniConfigWatcher).toSelf().inSingletonScope();
  options.bind(Startable).toService(CniConfigWatcher);
  options.bind(CniPodNetwork).toSelf().inSingletonScope();
  options.bind(PodNetwork).toService(CniPodNetwork);
});
