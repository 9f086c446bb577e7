import { injectable } from 'inversify';
import type { LogEntry, LogSink } from '@crikit/core';

/**
 * The default LogSink: drops every entry, so container output goes only to the CRI log file.
 * An embedder rebinds `LogSink` to ship lines elsewhere (ARCHITECTURE.md, "Swapping a service").
 */
@injectable()
export class NoopLogSink implements LogSink {
  write(_entry: LogEntry): void {
    // Nothing to do: the CRI log file is the only destination by default.
  }
}
