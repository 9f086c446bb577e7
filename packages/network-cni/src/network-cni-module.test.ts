import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Container } from 'inversify';
import { Logger, NetworkNamespaces, PathsConfig, PodNetwork, silentLogger, Startable, StartOrder } from '@crikit/core';
import { CniConfTemplateWriter } from './cni-conf-template-writer.js';
import { CniConfigWatcher } from './cni-config-watcher.js';
import { CniNetwork } from './cni-network.js';
import { CniPluginExec } from './cni-plugin-exec.js';
import { CniPodNetwork } from './cni-pod-network.js';
import { CniResultCache } from './cni-result-cache.js';
import { PinnedNetnsManager } from './netns-manager.js';
import { NetworkCniConfig, networkCniConfigSchema } from './network-cni-config.js';
import { networkCniModule } from './network-cni-module.js';

describe('networkCniModule', () => {
  it('resolves every token it binds, as singletons', () => {
    const container = new Container();
    container.bind(Logger).toConstantValue(silentLogger);
    container.bind(PathsConfig).toConstantValue({ rootDir: '/var/lib/crikit-test', stateDir: '/run/crikit-test' });
    container.bind(NetworkCniConfig).toConstantValue(networkCniConfigSchema.parse({}));
    container.load(networkCniModule);
    for (const token of [CniConfigWatcher, CniPluginExec, CniNetwork, CniResultCache, CniConfTemplateWriter, PinnedNetnsManager, CniPodNetwork]) {
      const first = container.get<object>(token);
      assert.ok(first instanceof token, token.name);
      assert.equal(container.get<object>(token), first, `${token.name} is a singleton`);
    }
    assert.equal(container.get(PodNetwork), container.get(CniPodNetwork));
    assert.equal(container.get(NetworkNamespaces), container.get(PinnedNetnsManager));
    assert.equal(container.get<PinnedNetnsManager>(PinnedNetnsManager).dir, '/run/crikit-test/netns');
    assert.equal(container.get<CniResultCache>(CniResultCache).dir, '/var/lib/crikit-test/cni/results');
    const startables = container.getAll<Startable>(Startable);
    assert.deepEqual(startables, [container.get(CniConfigWatcher)]);
    assert.equal(startables[0]!.startOrder, StartOrder.network);
  });
});
