import { ContainerModule } from 'inversify';
import { Startable, Tracing } from '@crikit/core';
import { OtelTracing } from './otel-tracing.js';

/**
 * Binds core's Tracing to OtelTracing (also a Startable). Load it only when tracing is wanted: without
 * it nothing is traced and the SDK is never loaded. Needs `TracingConfig` and `Logger` bound; an
 * optional `TraceExporterFactory` replaces OTLP.
 */
export const tracingModule = new ContainerModule(options => {
  options.bind(OtelTracing).toSelf().inSingletonScope();
  options.bind(Tracing).toService(OtelTracing);
  options.bind(Startable).toService(OtelTracing);
});
