export * from './tracing-config.js';
export * from './otel-tracing.js';
export * from './tracing-module.js';
