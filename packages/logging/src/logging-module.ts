import { ContainerModule } from 'inversify';
import { ContainerLogWriter, LogSink } from '@crikit/core';
import { CriFileLogWriter } from './cri-file-log-writer.js';
import { NoopLogSink } from './noop-log-sink.js';

/**
 * Binds CRI log files behind core's `ContainerLogWriter` and a `LogSink` that drops everything.
 * Both defaults are bound `toSelf()` and the tokens point at them, so an embedder can replace or
 * decorate either (ARCHITECTURE.md, "Swapping a service"). Needs `LoggingConfig` and `Logger` bound.
 */
export const loggingModule = new ContainerModule(options => {
  options.bind(CriFileLogWriter).toSelf().inSingletonScope();
  options.bind(ContainerLogWriter).toService(CriFileLogWriter);
  options.bind(NoopLogSink).toSelf().inSingletonScope();
  options.bind(LogSink).toService(NoopLogSink);
});
