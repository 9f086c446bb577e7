import { z } from 'zod';

/** Traces (OpenTelemetry): off unless `endpoint` names an OTLP collector. */
export const tracingConfigSchema = z.strictObject({
  endpoint: z.string().default('').refine(v => v === '' || isHttpUrl(v), { message: 'must be an http(s) URL' })
    .describe('OTLP/HTTP traces URL (protobuf), e.g. "http://127.0.0.1:4318/v1/traces"; empty: tracing off'),
  serviceName: z.string().min(1).default('crikit').describe('the service.name resource attribute of every span'),
  samplingRatio: z.number().min(0).max(1).default(1)
    .describe('share of new traces recorded (0 to 1); a call that carries a caller\'s trace follows its sampling decision'),
  exportTimeoutMs: z.number().int().positive().default(10_000).describe('how long one export to the collector may take'),
});
export type TracingConfig = z.infer<typeof tracingConfigSchema>;
export const TracingConfig = Symbol('TracingConfig');

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
