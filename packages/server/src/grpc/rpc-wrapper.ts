import * as grpc from '@grpc/grpc-js';
import { inject, injectable, optional } from 'inversify';
import { clampTimerMs, Logger, RpcObserver, Tracing, UnavailableError, type TraceSpan } from '@crikit/core';
import { grpcStatusOf } from '../grpc-status.js';
import type { RpcWrapper } from './define-service.js';
import { callHeader, endRpcSpan, spanMethod } from './rpc-span.js';

/** Tells whether start-up has ended; until then every RPC answers UNAVAILABLE. */
@injectable()
export class ReadinessGate {
  private ready = false;
  /** Opens the gate once every Startable has started. */
  open(): void { this.ready = true; }
  /** Closes it again while draining on shutdown. */
  close(): void { this.ready = false; }
  get isOpen(): boolean { return this.ready; }
}

/**
 * The one wrapper every RPC runs through: refuses calls before start-up ends, gives the handler an
 * AbortSignal tied to the call's cancellation and deadline, maps errors to gRPC status, logs, and
 * counts in-flight calls so shutdown can drain them. With Tracing bound, each call runs in a span of its own.
 */
@injectable()
export class LoggingRpcWrapper implements RpcWrapper {
  private inFlight = 0;
  private stopping = false;
  private readonly streams = new Set<(reason: unknown) => void>();
  private drained: (() => void) | undefined;

  constructor(
    @inject(Logger) private readonly log: Logger,
    @inject(ReadinessGate) private readonly gate: ReadinessGate,
    @inject(RpcObserver) @optional() private readonly observer?: RpcObserver,
    @inject(Tracing) @optional() private readonly tracing?: Tracing,
  ) {}

  unary(rpc: string, handler: (req: unknown, signal: AbortSignal) => Promise<unknown>, call: grpc.ServerUnaryCall<unknown, unknown>, done: grpc.sendUnaryData<unknown>): void {
    if (this.tracing) this.tracing.inServerSpan(spanMethod(call), callHeader(call), span => this.runUnary(rpc, handler, call, done, span));
    else this.runUnary(rpc, handler, call, done);
  }

  stream(rpc: string, handler: (req: unknown, signal: AbortSignal) => AsyncIterable<unknown>, call: grpc.ServerWritableStream<unknown, unknown>): void {
    if (this.tracing) this.tracing.inServerSpan(spanMethod(call), callHeader(call), span => this.runStream(rpc, handler, call, span));
    else this.runStream(rpc, handler, call);
  }

  private runUnary(rpc: string, handler: (req: unknown, signal: AbortSignal) => Promise<unknown>, call: grpc.ServerUnaryCall<unknown, unknown>, done: grpc.sendUnaryData<unknown>, span?: TraceSpan): void {
    const { signal, release } = this.begin(call);
    const started = process.hrtime.bigint();
    this.guarded(rpc, () => handler(call.request, signal))
      .then(res => {
        this.log.debug({ rpc, ms: msSince(started) }, 'rpc done');
        this.observe(rpc, started, grpc.status.OK);
        if (span) endRpcSpan(span, call.request, res, grpc.status.OK);
        done(null, res);
      }, err => {
        const failure = this.toServiceError(rpc, err, started);
        if (span) endRpcSpan(span, call.request, undefined, failure.code!, failure.details);
        done(failure);
      })
      .finally(release);
  }

  private runStream(rpc: string, handler: (req: unknown, signal: AbortSignal) => AsyncIterable<unknown>, call: grpc.ServerWritableStream<unknown, unknown>, span?: TraceSpan): void {
    const { signal, release } = this.begin(call);
    const ends = new AbortController();
    const end = (reason?: unknown): void => ends.abort(reason);
    const cancelled = (): void => ends.abort(signal.reason);
    this.streams.add(end);
    signal.addEventListener('abort', cancelled, { once: true });
    const started = process.hrtime.bigint();
    this.guarded(rpc, async () => {
      await pump(handler(call.request, ends.signal), call, ends.signal);
      // Streams are ended at shutdown so that it never waits on a client that just listens.
      if (this.stopping && !signal.aborted) throw new UnavailableError(`${rpc}: crikit is stopping`);
    }).then(() => { this.observe(rpc, started, grpc.status.OK); if (span) endRpcSpan(span, call.request, undefined, grpc.status.OK); call.end(); },
      err => {
        const failure = this.toServiceError(rpc, err, started);
        if (span) endRpcSpan(span, call.request, undefined, failure.code!, failure.details);
        call.emit('error', failure);
      })
      .finally(() => {
        this.streams.delete(end);
        signal.removeEventListener('abort', cancelled);
        release();
      });
  }

  /** Ends every open server stream with UNAVAILABLE (used by shutdown before it drains). */
  endStreams(): void {
    this.stopping = true;
    for (const end of [...this.streams]) end(new UnavailableError('crikit is stopping'));
  }

  /** Resolves once no call is in flight (used by shutdown). */
  async drain(signal: AbortSignal): Promise<void> {
    if (this.inFlight === 0) return;
    await new Promise<void>(resolve => {
      this.drained = resolve;
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  private async guarded<T>(rpc: string, fn: () => Promise<T>): Promise<T> {
    if (!this.gate.isOpen) throw new UnavailableError(`${rpc}: crikit is starting or stopping`);
    return fn();
  }

  private begin(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): { signal: AbortSignal; release: () => void } {
    this.inFlight++;
    const ac = new AbortController();
    // grpc-js also reports 'cancelled' when the stream closes after a call ended well; the listener goes
    // with the call, so no abort reason (a DOMException, which captures a stack) is made for nothing.
    const cancelled = (): void => ac.abort(new DOMException('the caller cancelled the call', 'AbortError'));
    call.once('cancelled', cancelled);
    const deadline = call.getDeadline();
    const ms = deadline instanceof Date ? deadline.getTime() - Date.now() : deadline - Date.now();
    // Clamped: a deadline more than 2^31-1 ms away would otherwise fire at once.
    const timer = Number.isFinite(ms) ? setTimeout(() => ac.abort(new DOMException('deadline exceeded', 'TimeoutError')), clampTimerMs(ms)) : undefined;
    return {
      signal: ac.signal,
      release: () => {
        clearTimeout(timer);
        call.off('cancelled', cancelled);
        if (--this.inFlight === 0) this.drained?.();
      },
    };
  }

  private toServiceError(rpc: string, err: unknown, started: bigint): Partial<grpc.StatusObject> {
    const code = grpcStatusOf(err);
    const message = err instanceof Error ? err.message : String(err);
    if (code === grpc.status.UNKNOWN || code === grpc.status.INTERNAL) this.log.error({ rpc, err, ms: msSince(started) }, 'rpc failed');
    else this.log.info({ rpc, code: grpc.status[code], error: message, ms: msSince(started) }, 'rpc refused');
    this.observe(rpc, started, code);
    return { code, details: message };
  }

  // Metrics must never fail a call: an observer that throws is logged and ignored.
  private observe(rpc: string, started: bigint, code: grpc.status): void {
    try {
      this.observer?.rpcFinished(rpc, msSince(started) / 1000, grpc.status[code] ?? String(code));
    } catch (err) {
      this.log.warn({ rpc, err }, 'rpc observer threw');
    }
  }
}

const aborted = Symbol('aborted');

/**
 * Writes what a stream handler yields, honouring the client's flow control, until the handler ends
 * or `signal` fires. While a write waits for the client to read, the handler's next item is already
 * asked for, so a handler that gives up (a subscriber that fell too far behind) ends the call at
 * once instead of whenever the client reads again. The handler is finished with `return()`
 * without waiting for it, so its clean-up never holds the call open.
 */
async function pump(items: AsyncIterable<unknown>, call: grpc.ServerWritableStream<unknown, unknown>, signal: AbortSignal): Promise<void> {
  const it = items[Symbol.asyncIterator]();
  let next = it.next();
  try {
    for (;;) {
      // A pending item abandoned on abort must not become an unhandled rejection.
      next.catch(() => undefined);
      const r = await untilAborted(next, signal);
      if (r === aborted || r.done) return;
      const flowing = call.write(r.value);
      next = it.next();
      if (!flowing) await writable(call, signal, next);
    }
  } finally {
    next.catch(() => undefined);
    it.return?.(undefined)?.catch(() => undefined);
  }
}

function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T | typeof aborted> {
  if (signal.aborted) return Promise.resolve(aborted);
  return new Promise<T | typeof aborted>((resolve, reject) => {
    const onAbort = (): void => resolve(aborted);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(v => { signal.removeEventListener('abort', onAbort); resolve(v); },
      e => { signal.removeEventListener('abort', onAbort); reject(e); });
  });
}

// Resolves when the call drains or `signal` fires; rejects when the handler's next item fails first.
function writable(call: grpc.ServerWritableStream<unknown, unknown>, signal: AbortSignal, next: Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (): void => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
    next.catch(err => { done(); reject(err); });
  });
}

const msSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;
