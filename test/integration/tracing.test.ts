// OpenTelemetry traces through the CRI socket: with `tracing.endpoint` set, every CRI call is a server
// span and the containerd calls made for it are client spans beneath it, exported over OTLP/HTTP
// (protobuf) to a receiver this test runs on 127.0.0.1. crikitd's bundle loads the SDK only then.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { cri } from '@crikit/api';
import { Tracing } from '@crikit/core';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { OtelTracing } from '@crikit/tracing';
import { containerConfig, runContainer } from '../support/container-fixture.js';
import { criClient, type CriClient } from '../support/cri-client.js';
import { crikitdMain, startCrikitd, tempRuntimeDirs } from '../support/crikitd.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { stopRuntimeAndPods } from '../support/pod-cleanup.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';
import { testLogger } from '../support/test-logger.js';

const SERVER = 2;
const CLIENT = 3;
let env: PodTestEnv;
let receiver: OtlpReceiver;
let runtime: CriRuntime;
let c: CriClient;

before(async () => {
  receiver = await startOtlpReceiver();
  env = await podTestEnv(76, { tracing: { endpoint: receiver.url, serviceName: 'crikit-test' } });
  runtime = createRuntime({ logger: testLogger(), config: env.config });
  await runtime.start(AbortSignal.timeout(60_000));
  c = criClient(runtime.socket);
  await c.image.pullImage({ image: { image: env.busybox } });
});
after(async () => {
  c?.close();
  await stopRuntimeAndPods(runtime);
  await env?.cleanup();
  await receiver?.close();
});

/** Exports what is buffered and returns every span the receiver has. */
async function received(): Promise<ReceivedSpan[]> {
  await runtime.container.get(OtelTracing).flush();
  return receiver.spans;
}
const named = (spans: ReceivedSpan[], name: string): ReceivedSpan[] => spans.filter(s => s.name === name);
const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan): ReceivedSpan[] =>
  spans.filter(s => s.parentSpanId === parent.spanId && s.traceId === parent.traceId);

test('RunPodSandbox, CreateContainer and StartContainer spans carry their ids, with the containerd calls beneath them', async () => {
  const podCfg = podConfig('traced');
  const pod = (await c.runtime.runPodSandbox({ config: podCfg })).podSandboxId;
  const id = await runContainer(c, pod, podCfg, containerConfig('traced', env.busybox, 'exec sleep 1000'));
  const spans = await received();
  assert.ok(receiver.contentTypes.every(t => t === 'application/x-protobuf'), `OTLP over http/protobuf: ${receiver.contentTypes.join(', ')}`);

  const [run] = named(spans, 'runtime.v1.RuntimeService/RunPodSandbox').filter(s => s.attributes['cri.pod_sandbox.id'] === pod);
  assert.ok(run, 'a RunPodSandbox span for the pod');
  assert.equal(run.kind, SERVER);
  assert.equal(run.service, 'crikit-test');
  assert.equal(run.parentSpanId, '', 'a root span');
  assert.deepEqual([run.attributes['rpc.system'], run.attributes['rpc.service'], run.attributes['rpc.method'], run.attributes['rpc.grpc.status_code']],
    ['grpc', 'runtime.v1.RuntimeService', 'RunPodSandbox', 0]);
  assert.deepEqual([run.attributes['k8s.pod.name'], run.attributes['k8s.namespace.name'], run.attributes['k8s.pod.uid']],
    [podCfg.metadata!.name, podCfg.metadata!.namespace, podCfg.metadata!.uid]);
  const beneath = childrenOf(spans, run);
  const calls = beneath.map(s => s.name);
  for (const m of ['containerd.services.containers.v1.Containers/Create', 'containerd.services.tasks.v1.Tasks/Create', 'containerd.services.tasks.v1.Tasks/Start']) {
    assert.ok(calls.includes(m), `${m} beneath RunPodSandbox; got ${calls.join(', ')}`);
  }
  for (const s of beneath) {
    assert.equal(s.kind, CLIENT, s.name);
    assert.equal(s.attributes['rpc.system'], 'grpc');
  }

  const [create] = named(spans, 'runtime.v1.RuntimeService/CreateContainer').filter(s => s.attributes['cri.container.id'] === id);
  assert.ok(create, 'a CreateContainer span for the container');
  assert.deepEqual([create.attributes['cri.pod_sandbox.id'], create.attributes['k8s.container.name'], create.attributes['k8s.pod.name']], [pod, 'traced', 'traced']);
  assert.ok(childrenOf(spans, create).some(s => s.name === 'containerd.services.containers.v1.Containers/Create'));
  const [start] = named(spans, 'runtime.v1.RuntimeService/StartContainer').filter(s => s.attributes['cri.container.id'] === id);
  assert.ok(childrenOf(spans, start!).some(s => s.name === 'containerd.services.tasks.v1.Tasks/Start'));
  // Each RPC is a trace of its own; no containerd span strays outside one.
  assert.notEqual(create.traceId, run.traceId);
  const servers = new Set(spans.filter(s => s.kind === SERVER).map(s => s.spanId));
  for (const s of spans.filter(s => s.kind === CLIENT)) assert.ok(servers.has(s.parentSpanId), `${s.name} has a CRI parent`);

  await c.runtime.stopPodSandbox({ podSandboxId: pod });
  await c.runtime.removePodSandbox({ podSandboxId: pod });
});

test('a refused call is an error span with its status; a caller\'s trace context is continued', async () => {
  await assert.rejects(c.runtime.containerStatus({ containerId: 'f'.repeat(64) }), (e: { code: number }) => e.code === grpc.status.NOT_FOUND);
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpan = '00f067aa0ba902b7';
  const md = new grpc.Metadata();
  md.set('traceparent', `00-${traceId}-${callerSpan}-01`);
  await new Promise<void>((resolve, reject) => c.raw.runtime.version(cri.VersionRequest.fromPartial({}), md, {}, err => (err ? reject(err) : resolve())));
  const spans = await received();
  const failed = named(spans, 'runtime.v1.RuntimeService/ContainerStatus').find(s => s.attributes['cri.container.id'] === 'f'.repeat(64));
  assert.ok(failed, 'a ContainerStatus span');
  assert.deepEqual([failed.statusCode, failed.attributes['rpc.grpc.status_code']], [2, grpc.status.NOT_FOUND]);
  assert.match(failed.statusMessage, /f{64}/);
  const version = spans.find(s => s.name === 'runtime.v1.RuntimeService/Version' && s.traceId === traceId);
  assert.ok(version, 'the Version span joined the caller\'s trace');
  assert.equal(version.parentSpanId, callerSpan);
});

test('without tracing.endpoint nothing is bound; crikitd\'s bundle holds no SDK and loads it when tracing is on', async () => {
  const off = createRuntime({});
  assert.equal(off.container.isBound(Tracing), false);
  const bundle = fs.readFileSync(crikitdMain, 'utf8');
  assert.equal(bundle.includes('BatchSpanProcessor'), false, 'the OpenTelemetry SDK is not in crikitd.js');
  assert.ok(bundle.includes('import("@crikit/tracing/otel")'));

  const dirs = tempRuntimeDirs();
  const daemon = await startCrikitd({ ...dirs.config, tracing: { endpoint: receiver.url, serviceName: 'crikitd-test' } }, dirs.dir);
  try {
    await daemon.client.runtime.status({});
  } finally {
    assert.equal(await daemon.stop(), 0);
    dirs.cleanup();
  }
  // crikitd exports what it buffered as it shuts down.
  const fromDaemon = receiver.spans.filter(s => s.service === 'crikitd-test');
  assert.ok(fromDaemon.some(s => s.name === 'runtime.v1.RuntimeService/Status'), `spans from crikitd: ${fromDaemon.map(s => s.name).join(', ')}`);
});
