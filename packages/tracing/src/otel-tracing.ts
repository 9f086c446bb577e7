import { inject, injectable, optional } from 'inversify';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { Logger, StartOrder, type Startable, type TraceSpan, type Tracing } from '@crikit/core';
import type { OtelRuntime } from './otel-runtime.js';
import { TracingConfig } from './tracing-config.js';

/**
 * Makes the exporter finished spans go to instead of OTLP to `tracing.endpoint` (an embedder's
 * exporter, or a test's InMemorySpanExporter). Optional.
 */
export type TraceExporterFactory = () => SpanExporter;
export const TraceExporterFactory = Symbol('TraceExporterFactory');

/** A span of a call that started before tracing did: records nothing. */
const unrecorded: TraceSpan = { setAttributes: () => undefined, end: () => undefined };

/**
 * Tracing with the OpenTelemetry SDK, exported in batches over OTLP/HTTP (protobuf). The SDK is
 * imported at `start`, so a runtime that never binds this never loads it; until then (and after
 * `stop`) calls run untraced.
 */
@injectable()
export class OtelTracing implements Tracing, Startable {
  readonly startName = 'tracing';
  // Before the containerd client, so that nothing waits on the SDK once calls flow.
  readonly startOrder = StartOrder.containerd;
  private runtime: OtelRuntime | undefined;

  constructor(
    @inject(TracingConfig) private readonly config: TracingConfig,
    @inject(Logger) private readonly log: Logger,
    @inject(TraceExporterFactory) @optional() private readonly exporter?: TraceExporterFactory,
  ) {}

  /** Loads the SDK and starts the exporter. */
  async start(): Promise<void> {
    const { createOtelRuntime } = await import('./otel-runtime.js');
    this.runtime = createOtelRuntime({ ...this.config, ...(this.exporter ? { exporter: this.exporter() } : {}) });
    this.log.info({ endpoint: this.exporter ? '(embedder exporter)' : this.config.endpoint, samplingRatio: this.config.samplingRatio }, 'tracing on');
  }

  /** Exports the spans still buffered (bounded by `exportTimeoutMs`), then stops. Idempotent. */
  async stop(): Promise<void> {
    const runtime = this.runtime;
    this.runtime = undefined;
    // An unreachable collector must not fail or hold up shutdown.
    await runtime?.shutdown().catch(err => this.log.warn({ err }, 'tracing: export at shutdown failed'));
  }

  /** Exports every finished span now (tests; an embedder before it reads its exporter). */
  async flush(): Promise<void> {
    await this.runtime?.flush();
  }

  inServerSpan<T>(method: string, header: (name: string) => string | undefined, fn: (span: TraceSpan) => T): T {
    return this.runtime ? this.runtime.inServerSpan(method, header, fn) : fn(unrecorded);
  }

  startClientSpan(method: string, setHeader: (name: string, value: string) => void): TraceSpan | undefined {
    return this.runtime?.startClientSpan(method, setHeader);
  }
}
