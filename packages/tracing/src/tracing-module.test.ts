import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Container } from 'inversify';
import { Logger, silentLogger, Startable, Tracing } from '@crikit/core';
import { OtelTracing } from './otel-tracing.js';
import { TracingConfig, tracingConfigSchema } from './tracing-config.js';
import { tracingModule } from './tracing-module.js';

it('tracingModule binds Tracing and its Startable to one OtelTracing', () => {
  const c = new Container();
  c.bind(Logger).toConstantValue(silentLogger);
  c.bind(TracingConfig).toConstantValue(tracingConfigSchema.parse({}));
  c.load(tracingModule);
  const t = c.get<Tracing>(Tracing);
  assert.ok(t instanceof OtelTracing);
  assert.ok(c.getAll<Startable>(Startable).includes(t as OtelTracing));
});
