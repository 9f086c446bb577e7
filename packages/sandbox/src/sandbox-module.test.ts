import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Container } from 'inversify';
import {
  CgroupConfig, cgroupConfigSchema, ContainerdClient, coreModule, ImageService, Logger, NetworkNamespaces, PathsConfig,
  PodNetwork, PortForwarder, RuntimesConfig, runtimesConfigSchema, SandboxManager, silentLogger, Snapshotter, Startable,
} from '@crikit/core';
import { FakeContainerd, FakeImageService, FakeNetworkNamespaces, FakePodNetwork } from '@crikit/core/testing';
import { ContainerdSandboxManager } from './containerd-sandbox-manager.js';
import { NsenterPortForwarder } from './nsenter-port-forwarder.js';
import { SandboxConfig, sandboxConfigSchema } from './sandbox-config.js';
import { sandboxModule } from './sandbox-module.js';
import { SandboxRecovery } from './sandbox-recovery.js';
import { SandboxSweep } from './sandbox-sweep.js';
import { SandboxUserNamespaces } from './sandbox-userns.js';

test('sandboxModule binds the sandbox manager and its recovery, as singletons', () => {
  const c = new Container();
  c.bind(Logger).toConstantValue(silentLogger);
  c.bind(ContainerdClient).toConstantValue(new FakeContainerd());
  c.bind(ImageService).toConstantValue(new FakeImageService());
  c.bind(PodNetwork).toConstantValue(new FakePodNetwork());
  c.bind(NetworkNamespaces).toConstantValue(new FakeNetworkNamespaces());
  c.bind(SandboxConfig).toConstantValue(sandboxConfigSchema.parse({}));
  c.bind(PathsConfig).toConstantValue({ rootDir: '/tmp/crikit-test-root', stateDir: '/tmp/crikit-test-state' });
  c.bind(RuntimesConfig).toConstantValue(runtimesConfigSchema.parse({}));
  c.bind(CgroupConfig).toConstantValue(cgroupConfigSchema.parse({}));
  c.bind(Snapshotter).toConstantValue('overlayfs');
  c.load(coreModule, sandboxModule);
  const manager = c.get(SandboxManager);
  assert.ok(manager instanceof ContainerdSandboxManager);
  assert.equal(c.get(SandboxManager), manager);
  assert.ok(c.getAll(Startable).some(s => s instanceof SandboxRecovery));
  assert.ok(c.getAll(Startable).some(s => s instanceof SandboxSweep));
  assert.ok(c.get(PortForwarder) instanceof NsenterPortForwarder);
  // Without the container package (RuntimeFeatures, RemappedSnapshots) it still resolves, and refuses user namespaces.
  assert.ok(c.get(SandboxUserNamespaces) instanceof SandboxUserNamespaces);
  assert.equal(c.get(PortForwarder), c.get(NsenterPortForwarder));
});
