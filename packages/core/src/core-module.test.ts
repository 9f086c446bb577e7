import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Container } from 'inversify';
import { coreModule } from './core-module.js';
import { RuntimeEventBus } from './events/runtime-events.js';
import { Logger, silentLogger } from './logger.js';
import { ContainerStore } from './stores/container-store.js';
import { ImageStore } from './stores/image-store.js';
import { SandboxStore } from './stores/sandbox-store.js';

describe('coreModule', () => {
  it('binds the event bus and the three stores as singletons', () => {
    const container = new Container();
    container.bind(Logger).toConstantValue(silentLogger);
    // inversify 8: `load` is the synchronous form (7's `loadSync`); `loadAsync` returns a promise.
    container.load(coreModule);
    for (const token of [RuntimeEventBus, SandboxStore, ContainerStore, ImageStore]) {
      const first = container.get<object>(token);
      assert.ok(first instanceof token, token.name);
      assert.equal(container.get<object>(token), first, `${token.name} is a singleton`);
    }
  });
});
