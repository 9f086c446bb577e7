import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Container } from 'inversify';
import { ContainerStreams, Logger, PortForwarder, silentLogger, Startable, StreamingServer } from '@crikit/core';
import { FakeContainerStreams, FakePortForwarder } from '@crikit/core/testing';
import { HttpStreamingServer } from './http-streaming-server.js';
import { StreamingConfig, streamingConfigSchema } from './streaming-config.js';
import { streamingModule } from './streaming-module.js';

describe('streamingModule', () => {
  it('binds the HTTP streaming server behind StreamingServer and as a Startable, as a singleton', () => {
    const c = new Container();
    c.bind(Logger).toConstantValue(silentLogger);
    c.bind(StreamingConfig).toConstantValue(streamingConfigSchema.parse({}));
    c.bind(ContainerStreams).toConstantValue(new FakeContainerStreams());
    c.bind(PortForwarder).toConstantValue(new FakePortForwarder());
    c.load(streamingModule);
    const server = c.get(HttpStreamingServer);
    assert.equal(c.get(StreamingServer), server);
    assert.ok(c.getAll(Startable).includes(server));
  });
});

describe('streamingConfigSchema', () => {
  it('defaults to containerd\'s loopback and ephemeral port, 1 min URLs and the kubelet\'s 4 h idle timeout', () => {
    assert.deepEqual(streamingConfigSchema.parse({}), {
      address: '127.0.0.1', port: 0, tls: false, tokenTtlMs: 60_000, idleTimeoutMs: 14_400_000, streamCreationTimeoutMs: 30_000,
    });
    assert.equal(streamingConfigSchema.safeParse({ port: 70000 }).success, false);
    assert.equal(streamingConfigSchema.safeParse({ tokenTtl: 5 }).success, false);
  });
  it('describes every key', () => {
    for (const [key, schema] of Object.entries(streamingConfigSchema.shape)) assert.ok(schema.description, key);
  });
});
