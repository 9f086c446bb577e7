import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContainerStore, isUnavailable, RuntimeEventBus, SandboxStore, silentLogger } from '@crikit/core';
import { containerRecord, containerStoreWith, sandboxRecord, sandboxStoreWith } from '@crikit/core/testing';
import { metricsConfigSchema } from './metrics-config.js';
import { PrometheusEndpoint } from './prometheus-endpoint.js';
import { RuntimeMetrics } from './runtime-metrics.js';

function endpoint(address: string, sandboxes = new SandboxStore(), containers = new ContainerStore()) {
  const config = metricsConfigSchema.parse({ address });
  const bus = new RuntimeEventBus(silentLogger);
  const metrics = new RuntimeMetrics(config, sandboxes, containers, bus);
  return { metrics, bus, endpoint: new PrometheusEndpoint(config, metrics, silentLogger) };
}

test('GET /metrics: RPC latency histograms and counts by code, pull bytes, objects by state, process metrics', async () => {
  const pod = sandboxRecord();
  const { metrics, bus, endpoint: server } = endpoint('127.0.0.1:0', sandboxStoreWith([pod]),
    containerStoreWith([containerRecord({ status: { state: 'running' } }, pod), containerRecord({}, pod)]));
  await server.start();
  try {
    metrics.rpcFinished('runtime.v1.RuntimeService/ListContainerStats', 0.003, 'OK');
    metrics.rpcFinished('runtime.v1.RuntimeService/ListContainerStats', 0.2, 'OK');
    metrics.rpcFinished('runtime.v1.RuntimeService/ContainerStats', 0.001, 'NOT_FOUND');
    bus.emit('image:pull-progressed', { ref: 'r', layerDigest: 'sha256:1', bytesDone: 100, bytesTotal: 300 });
    bus.emit('image:pull-progressed', { ref: 'r', layerDigest: 'sha256:1', bytesDone: 300, bytesTotal: 300 });
    metrics.cniPluginFinished('bridge', 'ADD', 0.03, 'ok');
    metrics.cniPluginFinished('bridge', 'ADD', 0.2, 'error');
    metrics.containerdReconnected();
    const res = await fetch(`http://${server.address}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^crikit_grpc_request_duration_seconds_bucket\{le="0.005",rpc="ListContainerStats"\} 1$/m);
    assert.match(text, /^crikit_grpc_request_duration_seconds_count\{rpc="ListContainerStats"\} 2$/m);
    assert.match(text, /^crikit_grpc_requests_total\{rpc="ContainerStats",code="NOT_FOUND"\} 1$/m);
    assert.match(text, /^crikit_image_pull_bytes_total 300$/m);
    assert.match(text, /^crikit_sandboxes\{state="ready"\} 1$/m);
    assert.match(text, /^crikit_containers\{state="running"\} 1$/m);
    assert.match(text, /^crikit_containers\{state="created"\} 1$/m);
    assert.match(text, /^crikit_cni_plugin_duration_seconds_bucket\{le="0.05",plugin="bridge",command="ADD"\} 1$/m);
    assert.match(text, /^crikit_cni_plugin_duration_seconds_count\{plugin="bridge",command="ADD"\} 2$/m);
    assert.match(text, /^crikit_cni_plugin_errors_total\{plugin="bridge",command="ADD"\} 1$/m);
    assert.match(text, /^crikit_containerd_reconnects_total 1$/m);
    assert.match(text, /^process_resident_memory_bytes \d+/m);
    assert.match(text, /^process_open_fds \d+/m);
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);
    assert.equal((await fetch(`http://${server.address}/other`)).status, 404);
  } finally {
    await server.stop();
  }
  await server.stop();
});

test('without an address nothing listens and nothing is recorded', async () => {
  const { metrics, endpoint: server } = endpoint('');
  await server.start();
  assert.equal(server.address, undefined);
  metrics.rpcFinished('runtime.v1.RuntimeService/Version', 0.001, 'OK');
  assert.doesNotMatch(await metrics.registry.metrics(), /rpc="Version"/);
  await server.stop();
});

test('an address that cannot be bound fails start with UNAVAILABLE naming it', async () => {
  const first = endpoint('127.0.0.1:0').endpoint;
  await first.start();
  try {
    const second = endpoint(first.address!).endpoint;
    await assert.rejects(second.start(), (err: Error) => isUnavailable(err) && /listen for metrics on 127\.0\.0\.1:\d+/.test(err.message));
  } finally {
    await first.stop();
  }
});
