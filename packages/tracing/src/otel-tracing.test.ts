// OtelTracing with the real SDK and an in-memory exporter: span names, kinds, parents across async
// continuations, status codes, the W3C trace context in and out, sampling, and nothing before start.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { silentLogger } from '@crikit/core';
import { OtelTracing } from './otel-tracing.js';
import { tracingConfigSchema } from './tracing-config.js';

async function tracing(config: object = {}): Promise<{ t: OtelTracing; spans: () => Promise<ReadableSpan[]> }> {
  const exporter = new InMemorySpanExporter();
  const t = new OtelTracing(tracingConfigSchema.parse({ endpoint: 'http://127.0.0.1:9/v1/traces', ...config }), silentLogger, () => exporter);
  await t.start();
  return { t, spans: async () => { await t.flush(); return exporter.getFinishedSpans(); } };
}

const noHeaders = (): undefined => undefined;
const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;

describe('OtelTracing', () => {
  it('records a server span with the client spans started in its async continuations as children', async () => {
    const { t, spans } = await tracing();
    const sent: Record<string, string>[] = [];
    await t.inServerSpan('runtime.v1.RuntimeService/RunPodSandbox', noHeaders, async span => {
      await sleep(1);
      for (const m of ['containerd.services.containers.v1.Containers/Create', 'containerd.services.tasks.v1.Tasks/Create']) {
        const headers: Record<string, string> = {};
        const client = t.startClientSpan(m, (k, v) => { headers[k] = v; })!;
        await new Promise(r => setImmediate(r));
        client.end(0);
        sent.push(headers);
      }
      span.setAttributes({ 'cri.pod_sandbox.id': 'abc' });
      span.end(0);
    });
    const all = await spans();
    const server = all.find(s => s.name === 'runtime.v1.RuntimeService/RunPodSandbox')!;
    assert.equal(server.kind, 1 /* SERVER */);
    assert.deepEqual([server.attributes['rpc.service'], server.attributes['rpc.method'], server.attributes['rpc.grpc.status_code'], server.attributes['cri.pod_sandbox.id']],
      ['runtime.v1.RuntimeService', 'RunPodSandbox', 0, 'abc']);
    const children = all.filter(s => s.kind === 2 /* CLIENT */);
    assert.deepEqual(children.map(s => s.name), ['containerd.services.containers.v1.Containers/Create', 'containerd.services.tasks.v1.Tasks/Create']);
    for (const [i, c] of children.entries()) {
      assert.equal(parentOf(c), server.spanContext().spanId);
      assert.equal(c.spanContext().traceId, server.spanContext().traceId);
      // The containerd call carries its own span as the parent of whatever containerd records.
      assert.equal(sent[i]!.traceparent, `00-${c.spanContext().traceId}-${c.spanContext().spanId}-01`);
    }
    await t.stop();
  });

  it('continues the caller\'s trace, marks failures, ends a span once', async () => {
    const { t, spans } = await tracing();
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const callerSpan = 'b7ad6b7169203331';
    const headers: Record<string, string> = { traceparent: `00-${traceId}-${callerSpan}-01` };
    t.inServerSpan('runtime.v1.RuntimeService/StopPodSandbox', k => headers[k], span => { span.end(5, 'pod sandbox "x" not found'); span.end(0); });
    const [s] = await spans();
    assert.equal(s!.spanContext().traceId, traceId);
    assert.equal(parentOf(s!), callerSpan);
    assert.deepEqual([s!.status.code, s!.status.message, s!.attributes['rpc.grpc.status_code']], [2 /* ERROR */, 'pod sandbox "x" not found', 5]);
    await t.stop();
  });

  it('starts no client span outside a server span, and records nothing before start or with sampling 0', async () => {
    const { t, spans } = await tracing({ samplingRatio: 0 });
    assert.equal(t.startClientSpan('containerd.services.version.v1.Version/Version', () => undefined), undefined);
    await t.inServerSpan('runtime.v1.RuntimeService/Version', noHeaders, async span => {
      const headers: Record<string, string> = {};
      t.startClientSpan('containerd.services.version.v1.Version/Version', (k, v) => { headers[k] = v; })?.end(0);
      // Not sampled: the decision still travels, so containerd does not record either.
      assert.match(headers.traceparent ?? '', /-00$/);
      span.end(0);
    });
    assert.deepEqual(await spans(), []);
    await t.stop();

    const fresh = new OtelTracing(tracingConfigSchema.parse({}), silentLogger, () => new InMemorySpanExporter());
    assert.equal(fresh.inServerSpan('m/M', noHeaders, () => 7), 7);
    assert.equal(fresh.startClientSpan('m/M', () => undefined), undefined);
  });

  it('refuses an endpoint that is not an http(s) URL', () => {
    assert.equal(tracingConfigSchema.safeParse({ endpoint: 'localhost:4318' }).success, false);
    assert.equal(tracingConfigSchema.safeParse({ endpoint: 'https://collector:4318/v1/traces' }).success, true);
    assert.equal(tracingConfigSchema.safeParse({ samplingRatio: 1.5 }).success, false);
  });
});
