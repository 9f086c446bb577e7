/**
 * A LogSink that ships every container log line to an HTTP collector as JSON lines
 * (`POST <url>`, `Content-Type: application/x-ndjson`, one object per line).
 *
 * The LogSink contract forbids blocking the container's output path, so back-pressure is handled
 * by dropping: lines wait in a bounded queue while one POST is in flight; when the queue is full a
 * new line is dropped and counted. A POST that fails (collector down, non-2xx answer) loses its
 * batch, counted as `failed`. Nothing is retried and `write` never throws.
 */
import http from 'node:http';
import type { LogEntry, LogSink } from '@crikit/core';

/** How the sink reaches its collector and how much it may hold. */
export interface HttpLogSinkOptions {
  /** The collector's URL, e.g. `http://127.0.0.1:9880/logs` (plain http). */
  readonly url: string;
  /** Lines held while a POST is in flight; a line beyond this is dropped. 1000 by default. */
  readonly maxQueuedLines?: number;
  /** Lines per POST at most. 200 by default. */
  readonly maxBatchLines?: number;
  /** A POST that takes longer is abandoned and its lines counted as failed. 5000 by default. */
  readonly requestTimeoutMs?: number;
}

/** Counters since the sink was made. written = sent + failed + dropped + (queued or in flight). */
export interface HttpLogSinkStats {
  /** Lines handed to `write`. */
  readonly written: number;
  /** Lines the collector acknowledged with a 2xx. */
  readonly sent: number;
  /** Lines dropped because the queue was full. */
  readonly dropped: number;
  /** Lines lost with a POST that failed. */
  readonly failed: number;
}

/** The JSON object shipped for each line. */
export interface ShippedLine {
  readonly containerId: string;
  readonly sandboxId: string;
  readonly stream: 'stdout' | 'stderr';
  /** When the line was read, ns since the epoch, as a decimal string (too large for a JSON number). */
  readonly timeNs: string;
  /** A chunk of a line longer than the runtime's maximum line size (CRI tag `P`). */
  readonly partial: boolean;
  /** The line, decoded as UTF-8. */
  readonly log: string;
}

/** Ships log lines to an HTTP collector; see the file comment for the dropping rules. */
export class HttpLogSink implements LogSink {
  private readonly queue: string[] = [];
  private readonly maxQueued: number;
  private readonly maxBatch: number;
  private readonly timeoutMs: number;
  private inFlight: Promise<void> | undefined;
  private scheduled = false;
  private counts = { written: 0, sent: 0, dropped: 0, failed: 0 };
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: HttpLogSinkOptions) {
    this.maxQueued = options.maxQueuedLines ?? 1000;
    this.maxBatch = options.maxBatchLines ?? 200;
    this.timeoutMs = options.requestTimeoutMs ?? 5000;
  }

  /** Queues the line, or drops and counts it when the queue is full. Never throws, never blocks. */
  write(entry: LogEntry): void {
    this.counts.written++;
    if (this.queue.length >= this.maxQueued) {
      this.counts.dropped++;
      return;
    }
    const line: ShippedLine = {
      containerId: entry.containerId, sandboxId: entry.sandboxId, stream: entry.stream,
      timeNs: entry.timestampNs.toString(), partial: entry.partial, log: entry.content.toString('utf8'),
    };
    this.queue.push(JSON.stringify(line));
    this.schedule();
  }

  /** A snapshot of the counters. */
  stats(): HttpLogSinkStats {
    return { ...this.counts };
  }

  /** Lines waiting for a POST (not counting the one in flight). */
  get queued(): number {
    return this.queue.length;
  }

  /** Resolves once the queue is empty and no POST is in flight. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && !this.inFlight && !this.scheduled) return Promise.resolve();
    return new Promise(resolve => this.idleWaiters.push(resolve));
  }

  /** Sends on the next turn of the event loop, so lines written together go in one POST. */
  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.sendNext();
    });
  }

  private sendNext(): void {
    if (this.queue.length === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      return;
    }
    const batch = this.queue.splice(0, this.maxBatch);
    this.inFlight = this.post(batch).then(
      () => { this.counts.sent += batch.length; },
      () => { this.counts.failed += batch.length; },
    ).finally(() => {
      this.inFlight = undefined;
      this.sendNext();
    });
  }

  private post(lines: string[]): Promise<void> {
    const body = Buffer.from(`${lines.join('\n')}\n`);
    return new Promise((resolve, reject) => {
      const req = http.request(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson', 'content-length': body.length },
        timeout: this.timeoutMs,
      }, res => {
        res.resume();
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) resolve();
          else reject(new Error(`collector answered ${code}`));
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`collector did not answer in ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
