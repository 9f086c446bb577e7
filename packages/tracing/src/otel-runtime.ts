// The OpenTelemetry SDK, loaded only when tracing is on: OtelTracing imports this module dynamically,
// and crikitd's bundle leaves it out (scripts/bundle-crikitd.mjs), so a daemon without tracing never
// loads or even parses it. Nothing here registers OpenTelemetry globals: an embedder's own set-up is
// left alone.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { TraceAttributes, TraceSpan } from '@crikit/core';

/** What the SDK needs from crikit's config. */
export interface OtelRuntimeOptions {
  readonly serviceName: string;
  readonly samplingRatio: number;
  /** OTLP/HTTP (protobuf) traces URL; unused when `exporter` is given. */
  readonly endpoint: string;
  readonly exportTimeoutMs: number;
  /** Where finished spans go instead of OTLP (tests, embedders). */
  readonly exporter?: SpanExporter;
}

/** The loaded SDK: starts spans with AsyncLocalStorage context, flushes and shuts down. */
export interface OtelRuntime {
  /** Runs `fn` with a server span current (child of the trace `header` carries, if any). */
  inServerSpan<T>(method: string, header: (name: string) => string | undefined, fn: (span: TraceSpan) => T): T;
  /** A client span under the current span; undefined when no span is current. */
  startClientSpan(method: string, setHeader: (name: string, value: string) => void): TraceSpan | undefined;
  /** Exports every finished span now. */
  flush(): Promise<void>;
  /** Exports what is left and stops. */
  shutdown(): Promise<void>;
}

const headerGetter: TextMapGetter<(name: string) => string | undefined> = {
  get: (read, key) => read(key),
  keys: () => [],
};
const headerSetter: TextMapSetter<(name: string, value: string) => void> = {
  set: (write, key, value) => write(key, value),
};

/** Builds the tracer provider (ParentBased(TraceIdRatio) sampling, batch export) and the context manager. */
export function createOtelRuntime(options: OtelRuntimeOptions): OtelRuntime {
  const exporter = options.exporter ?? new OTLPTraceExporter({ url: options.endpoint, timeoutMillis: options.exportTimeoutMs });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.samplingRatio) }),
    spanProcessors: [new BatchSpanProcessor(exporter, { exportTimeoutMillis: options.exportTimeoutMs })],
  });
  const tracer = provider.getTracer('crikit');
  // Our own context manager, not the global one: the current span follows every async continuation of
  // a handler (promises, timers, grpc-js callbacks) through AsyncLocalStorage.
  const contexts = new AsyncLocalStorageContextManager().enable();
  const propagator = new W3CTraceContextPropagator();
  return {
    inServerSpan(method, header, fn) {
      const parent = propagator.extract(ROOT_CONTEXT, header, headerGetter);
      const span = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: rpcAttributes(method) }, parent);
      return contexts.with(trace.setSpan(parent, span), () => fn(wrap(span)));
    },
    startClientSpan(method, setHeader) {
      const current: Context = contexts.active();
      if (trace.getSpan(current) === undefined) return undefined;
      const span = tracer.startSpan(method, { kind: SpanKind.CLIENT, attributes: rpcAttributes(method) }, current);
      propagator.inject(trace.setSpan(current, span), setHeader, headerSetter);
      return wrap(span);
    },
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      await provider.shutdown();
      contexts.disable();
    },
  };
}

/** OpenTelemetry's RPC attributes for `package.Service/Method`. */
function rpcAttributes(method: string): TraceAttributes {
  const slash = method.lastIndexOf('/');
  return { 'rpc.system': 'grpc', 'rpc.service': method.slice(0, slash), 'rpc.method': method.slice(slash + 1) };
}

function wrap(span: Span): TraceSpan {
  let ended = false;
  return {
    setAttributes: attributes => { if (!ended) span.setAttributes(attributes); },
    end: (code, message) => {
      if (ended) return;
      ended = true;
      span.setAttribute('rpc.grpc.status_code', code);
      if (code !== 0) span.setStatus({ code: SpanStatusCode.ERROR, ...(message === undefined ? {} : { message }) });
      span.end();
    },
  };
}
