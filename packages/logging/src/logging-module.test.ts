import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Container } from 'inversify';
import { ContainerLogWriter, LogSink, Logger, silentLogger } from '@crikit/core';
import { FakeLogSink } from '@crikit/core/testing';
import { CriFileLogWriter } from './cri-file-log-writer.js';
import { LoggingConfig, loggingConfigSchema } from './logging-config.js';
import { loggingModule } from './logging-module.js';
import { NoopLogSink } from './noop-log-sink.js';

function loaded(): Container {
  const container = new Container();
  container.bind(Logger).toConstantValue(silentLogger);
  container.bind(LoggingConfig).toConstantValue(loggingConfigSchema.parse({}));
  container.load(loggingModule);
  return container;
}

describe('loggingModule', () => {
  it('resolves every token it binds, as singletons', () => {
    const container = loaded();
    for (const token of [CriFileLogWriter, NoopLogSink]) {
      const first = container.get<object>(token);
      assert.ok(first instanceof token, token.name);
      assert.equal(container.get<object>(token), first, `${token.name} is a singleton`);
    }
    assert.equal(container.get(ContainerLogWriter), container.get(CriFileLogWriter));
    assert.equal(container.get(LogSink), container.get(NoopLogSink));
  });

  it('lets an embedder rebind the LogSink', () => {
    const container = loaded();
    const sink = new FakeLogSink();
    container.rebind(LogSink).toConstantValue(sink);
    assert.equal(container.get(LogSink), sink);
    assert.ok(container.get(ContainerLogWriter) instanceof CriFileLogWriter);
  });
});

describe('loggingConfigSchema', () => {
  it('defaults maxLineBytes to containerd\'s 16 KiB and refuses non-positive sizes', () => {
    assert.deepEqual(loggingConfigSchema.parse({}), { maxLineBytes: 16384 });
    assert.equal(loggingConfigSchema.safeParse({ maxLineBytes: 0 }).success, false);
    assert.equal(loggingConfigSchema.safeParse({ maxLineBytes: 1.5 }).success, false);
    assert.equal(loggingConfigSchema.safeParse({ maxLinebytes: 10 }).success, false);
  });
  it('describes every key', () => {
    for (const [key, schema] of Object.entries(loggingConfigSchema.shape)) assert.ok(schema.description, key);
  });
});
