import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Container } from 'inversify';
import {
  CgroupConfig, cgroupConfigSchema, ContainerdClient, ContainerLogWriter, ContainerManager, ContainerStreams, coreModule, ImageLookup, Logger,
  PathsConfig, RemappedSnapshots, RuntimeFeatures, RuntimesConfig, runtimesConfigSchema, silentLogger, Snapshotter, Startable,
} from '@crikit/core';
import { FakeContainerd, FakeImageService, FakeLogWriter } from '@crikit/core/testing';
import { ContainerConfig, containerConfigSchema } from './container-config.js';
import { ContainerExits } from './container-exits.js';
import { containerModule } from './container-module.js';
import { ContainerRecovery } from './container-recovery.js';
import { ContainerdContainerManager } from './containerd-container-manager.js';
import { ContainerdContainerStreams } from './containerd-container-streams.js';
import { HostFactsProvider } from './host-facts-provider.js';
import { ContainerdRemappedSnapshots } from './remapped-snapshots.js';
import { FeatureSources, HostFeatureSources } from './runtime-features/feature-sources.js';
import { ProbedRuntimeFeatures } from './runtime-features/probed-runtime-features.js';

test('containerModule binds the container manager, exit tracking and recovery, as singletons', () => {
  const c = new Container();
  c.bind(Logger).toConstantValue(silentLogger);
  c.bind(ContainerdClient).toConstantValue(new FakeContainerd());
  c.bind(ImageLookup).toConstantValue(new FakeImageService());
  c.bind(ContainerLogWriter).toConstantValue(new FakeLogWriter());
  c.bind(ContainerConfig).toConstantValue(containerConfigSchema.parse({}));
  c.bind(PathsConfig).toConstantValue({ rootDir: '/tmp/crikit-test-root', stateDir: '/tmp/crikit-test-state' });
  c.bind(RuntimesConfig).toConstantValue(runtimesConfigSchema.parse({}));
  c.bind(CgroupConfig).toConstantValue(cgroupConfigSchema.parse({}));
  c.bind(Snapshotter).toConstantValue('overlayfs');
  c.load(coreModule, containerModule);
  const manager = c.get(ContainerManager);
  assert.ok(manager instanceof ContainerdContainerManager);
  assert.equal(c.get(ContainerManager), manager);
  const startables = c.getAll(Startable);
  assert.ok(startables.some(s => s instanceof ContainerExits));
  assert.ok(startables.some(s => s instanceof ContainerRecovery));
  // Host facts and runtime features are detected at start-up.
  assert.ok(startables.some(s => s instanceof HostFactsProvider));
  assert.ok(c.get(RuntimeFeatures) instanceof ProbedRuntimeFeatures);
  assert.ok(c.get(FeatureSources) instanceof HostFeatureSources);
  assert.ok(startables.includes(c.get(ProbedRuntimeFeatures)));
  // Remapped rootfs snapshots for user namespace pods, swept from start-up on.
  assert.ok(c.get(RemappedSnapshots) instanceof ContainerdRemappedSnapshots);
  assert.ok(startables.includes(c.get(ContainerdRemappedSnapshots)));
  // Exec and Attach with a streaming client.
  assert.equal(c.get(ContainerStreams), c.get(ContainerdContainerStreams));
});
