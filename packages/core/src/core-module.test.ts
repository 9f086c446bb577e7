import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Container } from 'inversify';
import { coreModule } from './core-module.js';
import { ContainerdClient } from './contracts/containerd-client.js';
import { Startable } from './contracts/startable.js';
import { UndoRetries } from './containerd/undo-retries.js';
import { ContainerdEventMonitor } from './events/containerd-event-monitor.js';
import { FakeContainerd } from './testing/fake-containerd.js';
import { RuntimeEventBus } from './events/runtime-events.js';
import { Logger, silentLogger } from './logger.js';
import { ContainerStore } from './stores/container-store.js';
import { ImageStore } from './stores/image-store.js';
import { SandboxStore } from './stores/sandbox-store.js';
import { ProcessRunner } from './contracts/process-runner.js';
import { SpawnHelper } from './util/spawn-helper.js';

describe('coreModule', () => {
  it('binds the event bus and the three stores as singletons', () => {
    const container = new Container();
    container.bind(Logger).toConstantValue(silentLogger);
    container.bind(ContainerdClient).toConstantValue(new FakeContainerd());
    // inversify 8: `load` is the synchronous form (7's `loadSync`); `loadAsync` returns a promise.
    container.load(coreModule);
    for (const token of [RuntimeEventBus, SandboxStore, ContainerStore, ImageStore, ContainerdEventMonitor]) {
      const first = container.get<object>(token);
      assert.ok(first instanceof token, token.name);
      assert.equal(container.get<object>(token), first, `${token.name} is a singleton`);
    }
    assert.ok(container.getAll(Startable).some(s => s instanceof ContainerdEventMonitor), 'the monitor starts with the runtime');
    assert.ok(container.getAll(Startable).some(s => s instanceof UndoRetries), 'so do the undo retries');
    assert.ok(container.get(ProcessRunner) instanceof SpawnHelper, 'programs run through the spawn helper');
    assert.ok(container.getAll(Startable).includes(container.get(SpawnHelper)), 'the spawn helper starts and stops with the runtime');
  });
});
