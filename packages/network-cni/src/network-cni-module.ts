import { ContainerModule } from 'inversify';
import { NetworkNamespaces, PodNetwork, Startable } from '@crikit/core';
import { CniConfTemplateWriter } from './cni-conf-template-writer.js';
import { CniConfigWatcher } from './cni-config-watcher.js';
import { CniNetwork } from './cni-network.js';
import { CniPluginExec } from './cni-plugin-exec.js';
import { CniPodNetwork } from './cni-pod-network.js';
import { CniResultCache } from './cni-result-cache.js';
import { PinnedNetnsManager } from './netns-manager.js';

/**
 * Binds CNI networking: the conf dir watcher, plugin execution, network-list operations, the
 * result cache, the conf template writer, netns pinning behind core's `NetworkNamespaces`, and the
 * CNI pod network behind core's `PodNetwork`. Needs `NetworkCniConfig`,
 * `PathsConfig` and `Logger` bound.
 */
export const networkCniModule = new ContainerModule(options => {
  options.bind(CniConfigWatcher).toSelf().inSingletonScope();
  options.bind(Startable).toService(CniConfigWatcher);
  options.bind(CniPluginExec).toSelf().inSingletonScope();
  options.bind(CniNetwork).toSelf().inSingletonScope();
  options.bind(CniResultCache).toSelf().inSingletonScope();
  options.bind(CniConfTemplateWriter).toSelf().inSingletonScope();
  options.bind(PinnedNetnsManager).toSelf().inSingletonScope();
  options.bind(NetworkNamespaces).toService(PinnedNetnsManager);
  options.bind(CniPodNetwork).toSelf().inSingletonScope();
  options.bind(PodNetwork).toService(CniPodNetwork);
});
