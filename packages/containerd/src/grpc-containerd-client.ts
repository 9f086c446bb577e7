import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { inject, injectable, optional } from 'inversify';
import { content, methodPath, type MessageType, type MethodDefinition, type ServiceDefinition } from '@crikit/api';
import {
  abortError, Backoff, containerdServices, CriError, deadline, DeadlineExceededError, FailedPreconditionError, InvalidArgumentError,
  Logger, RuntimeObserver, StartOrder, Tracing, UnavailableError,
  type CallOptions, type ContainerdClient, type ContainerdServices, type DuplexCall, type Startable, type TraceSpan,
} from '@crikit/core';
import { ContainerdAddress } from './containerd-address.js';
import { ContainerdConfig } from './containerd-config.js';
import { fromGrpcError } from './grpc-errors.js';
import { encodeWriteContentRequest } from './write-content-request.js';

/** Channel options for a local containerd. */
const channelOptions: grpc.ChannelOptions = {
  // containerd's own client raises both limits to 16 MiB (defaults.DefaultMaxRecvMsgSize/SendMsgSize).
  'grpc.max_receive_message_length': 16 << 20,
  'grpc.max_send_message_length': 16 << 20,
  // The socket is local: after containerd comes back, reconnect within a second instead of after grpc's
  // default backoff, which grows to two minutes. No keepalive pings: a unix socket reports a dead peer at once.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1_000,
};

/** Each probe of waitReady and isHealthy gets this long. */
const probeTimeoutMs = 2_000;
/** waitReady's backoff between probes. */
const retryPolicy = { initialMs: 100, maxMs: 2_000 };

/** Requests are encoded by the facade (so a bad request fails before any I/O); grpc-js sends the bytes. */
const passThrough = (bytes: Buffer): Buffer => bytes;

/** The calls this client may have to cancel: every grpc-js call object has these. */
type ActiveCall = grpc.Call & { on(event: 'status', listener: () => void): unknown };

/**
 * ContainerdClient over grpc-js: one channel to `unix://<socket>`, every call in the configured namespace
 * (the `containerd-namespace` header; containerd creates the namespace on first use) and, with `lease` in its
 * CallOptions, under that lease (the `containerd-lease` header). Facades are built from
 * core's `containerdServices` definitions: unary methods return promises, server streams async iterables,
 * and content Write a DuplexCall. Every failure is a crikit error (see fromGrpcError); an aborted `signal`
 * rejects with CancelledError or DeadlineExceededError.
 *
 * While containerd is down calls fail fast with UnavailableError (no wait-for-ready); grpc-js reconnects on
 * its own once containerd is back. As a Startable (order StartOrder.containerdClient) it waits for containerd
 * to answer at start and closes the channel at stop.
 */
@injectable()
export class GrpcContainerdClient implements ContainerdClient, Startable {
  /** @inheritdoc */
  readonly startName = 'containerd client';
  /** @inheritdoc */
  readonly startOrder = StartOrder.containerdClient;
  /** @inheritdoc */
  readonly namespace: string;
  /** containerd's Containers service. */
  readonly containers: ContainerdClient['containers'];
  /** containerd's Content service (Write is a DuplexCall). */
  readonly content: ContainerdClient['content'];
  /** containerd's Diff service. */
  readonly diff: ContainerdClient['diff'];
  /** containerd's Events service. */
  readonly events: ContainerdClient['events'];
  /** containerd's Images service. */
  readonly images: ContainerdClient['images'];
  /** containerd's Introspection service. */
  readonly introspection: ContainerdClient['introspection'];
  /** containerd's Leases service. */
  readonly leases: ContainerdClient['leases'];
  /** containerd's Namespaces service. */
  readonly namespaces: ContainerdClient['namespaces'];
  /** containerd's Snapshots service. */
  readonly snapshots: ContainerdClient['snapshots'];
  /** containerd's Tasks service. */
  readonly tasks: ContainerdClient['tasks'];
  /** containerd's Version service. */
  readonly version: ContainerdClient['version'];

  private readonly log: Logger;
  private client: grpc.Client | undefined;
  private closed = false;
  private readonly active = new Set<ActiveCall>();

  constructor(
    @inject(ContainerdConfig) private readonly config: ContainerdConfig,
    @inject(ContainerdAddress) private readonly address: ContainerdAddress,
    @inject(Logger) log: Logger,
    @inject(RuntimeObserver) @optional() private readonly observer?: RuntimeObserver,
    @inject(Tracing) @optional() private readonly tracing?: Tracing,
  ) {
    this.namespace = config.namespace;
    this.log = log.child({ component: 'containerd-client' });
    this.containers = this.facade('containers');
    this.content = this.facade('content');
    this.diff = this.facade('diff');
    this.events = this.facade('events');
    this.images = this.facade('images');
    this.introspection = this.facade('introspection');
    this.leases = this.facade('leases');
    this.namespaces = this.facade('namespaces');
    this.snapshots = this.facade('snapshots');
    this.tasks = this.facade('tasks');
    this.version = this.facade('version');
  }

  /** Opens the channel and waits up to `connectTimeoutMs` for containerd to answer. @throws UnavailableError */
  async start(signal: AbortSignal): Promise<void> {
    this.channel('containerd client start');
    const limit = deadline(signal, this.config.connectTimeoutMs);
    await this.waitReady(limit.signal).finally(() => limit.dispose());
    this.log.debug({ socket: this.address.socketPath, namespace: this.namespace }, 'containerd answers');
  }

  /** Closes the channel. Idempotent. */
  async stop(): Promise<void> {
    this.close();
  }

  /**
   * Polls containerd's Version with exponential backoff (100 ms to 2 s) until it answers.
   * @throws UnavailableError naming the socket once `signal` fires or the client is closed
   */
  async waitReady(signal: AbortSignal): Promise<void> {
    const socket = this.address.socketPath;
    let reason = 'not tried';
    const backoff = new Backoff(retryPolicy);
    for (let attempt = 1; ; attempt++) {
      let failure: unknown;
      try {
        await this.version.version({}, { signal, timeoutMs: probeTimeoutMs });
        return;
      } catch (err) {
        failure = err;
      }
      // Report why containerd did not answer, not that we stopped asking.
      if (!signal.aborted || attempt === 1) reason = failure instanceof Error ? failure.message : String(failure);
      if (this.closed || signal.aborted) {
        throw new UnavailableError(`wait for containerd on "${socket}": ${reason}`, { cause: failure });
      }
      this.log.debug({ socket, attempt, reason }, 'containerd not ready yet');
      await sleep(backoff.next(), undefined, { signal }).catch(() => undefined);
    }
  }

  /** One Version call with a short deadline; false on any failure. Never throws. */
  async isHealthy(signal: AbortSignal): Promise<boolean> {
    try {
      await this.version.version({}, { signal, timeoutMs: probeTimeoutMs });
      return true;
    } catch {
      return false;
    }
  }

  /** Cancels calls in flight and closes the channel; later calls reject with UnavailableError. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const call of this.active) call.cancel();
    this.active.clear();
    this.client?.close();
    this.client = undefined;
  }

  /** Builds the facade of one service from its definition. */
  private facade<K extends keyof ContainerdServices>(key: K): ContainerdClient[K] {
    const service: ServiceDefinition = containerdServices[key];
    const methods: Record<string, unknown> = {};
    for (const [name, method] of Object.entries(service.methods)) {
      const path = methodPath(service, method);
      const doing = `containerd ${key}.${name}`;
      methods[name] = method.requestStream
        ? (opts?: CallOptions) => this.duplex(path, method, doing, opts ?? {})
        : method.responseStream
          ? (req?: object, opts?: CallOptions) => this.serverStream(path, method, doing, req ?? {}, opts ?? {})
          : (req?: object, opts?: CallOptions) => this.unary(path, method, doing, req ?? {}, opts ?? {});
    }
    // The definitions decide the call shapes, which is exactly what ServiceFacade computes from the same types.
    return Object.freeze(methods) as unknown as ContainerdClient[K];
  }

  private unary(path: string, method: MethodDefinition, doing: string, req: object, opts: CallOptions): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const ctx = callContext(doing, opts);
      if (ctx.signal?.aborted) return reject(abortError(ctx.signal, doing));
      const traced = this.clientSpan(path);
      try {
        const call = this.channel(doing).makeUnaryRequest(
          path, passThrough, (bytes: Buffer) => method.responseType.decode(bytes), encode(method, req, doing),
          this.metadata(ctx, traced), grpcCallOptions(ctx),
          (err, res) => (err ? reject(this.failure(err, ctx)) : resolve(res)),
        );
        this.track(call, ctx.signal, traced?.span);
      } catch (err) {
        traced?.span.end(grpc.status.UNKNOWN, err instanceof Error ? err.message : String(err));
        reject(err);
      }
    });
  }

  private async *serverStream(
    path: string, method: MethodDefinition, doing: string, req: object, opts: CallOptions,
  ): AsyncGenerator<unknown> {
    const ctx = callContext(doing, opts);
    if (ctx.signal?.aborted) throw abortError(ctx.signal, doing);
    const bytes = encode(method, req, doing);
    const traced = this.clientSpan(path);
    let call: grpc.ClientReadableStream<unknown>;
    try {
      call = this.channel(doing).makeServerStreamRequest(
        path, passThrough, (b: Buffer) => method.responseType.decode(b), bytes, this.metadata(ctx, traced), grpcCallOptions(ctx),
      );
    } catch (err) {
      traced?.span.end(grpc.status.UNAVAILABLE, err instanceof Error ? err.message : String(err));
      throw err;
    }
    this.track(call, ctx.signal, traced?.span);
    yield* this.responses(call, ctx);
  }

  private duplex(path: string, method: MethodDefinition, doing: string, opts: CallOptions): DuplexCall<unknown, unknown> {
    const ctx = callContext(doing, opts);
    let failure: CriError | undefined = ctx.signal?.aborted ? abortError(ctx.signal, doing) : undefined;
    let call: grpc.ClientDuplexStream<Buffer, unknown> | undefined;
    if (!failure) {
      const traced = this.clientSpan(path);
      try {
        call = this.channel(doing).makeBidiStreamRequest(
          path, passThrough, (bytes: Buffer) => method.responseType.decode(bytes), this.metadata(ctx, traced), grpcCallOptions(ctx),
        );
        this.track(call, ctx.signal, traced?.span);
      } catch (err) {
        failure = fromGrpcError(err, doing);
        traced?.span.end(grpc.status.UNAVAILABLE, failure.message);
      }
    }
    // Sends waiting for grpc-js; they fail with the call's status if it ends first.
    const waiting = new Set<(err: CriError) => void>();
    call?.on('error', err => {
      failure ??= this.failure(err, ctx);
      for (const fail of waiting) fail(failure);
      waiting.clear();
    });
    const failed = async function* (err: CriError): AsyncGenerator<unknown> { throw err; };
    let ended = false;
    return {
      send: req => new Promise<void>((resolve, reject) => {
        if (failure || !call) return reject(failure);
        // Writing after end() would make grpc-js fail the whole stream; refuse just this send.
        if (ended) return reject(new FailedPreconditionError(`${doing}: send after end`));
        let bytes: Buffer;
        try { bytes = encode(method, req, doing); } catch (err) { return reject(err); }
        waiting.add(reject);
        // The callback runs once grpc-js has handed the message on, so awaiting send() honours back-pressure.
        call.write(bytes, (err?: Error | null) => {
          waiting.delete(reject);
          if (err) reject(failure ?? this.failure(err, ctx)); else resolve();
        });
      }),
      end: () => {
        if (!ended) call?.end();
        ended = true;
      },
      responses: call && !failure ? this.responses(call, ctx) : failed(failure!),
      cancel: () => { call?.cancel(); },
    };
  }

  /** Yields a call's responses; cancels the call when the consumer stops early. */
  private async *responses(
    call: grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<Buffer, unknown>, ctx: CallContext,
  ): AsyncGenerator<unknown> {
    // grpc-js emits the call's status error with a bare emit(); the iterator below sees it too, and this
    // listener keeps one that arrives after the consumer left from becoming an uncaught exception.
    call.on('error', () => undefined);
    try {
      for await (const message of call) yield message;
    } catch (err) {
      throw this.failure(err, ctx);
    } finally {
      // A no-op once the call has ended; otherwise the consumer broke out of its loop.
      call.cancel();
    }
  }

  /** Cancels the call when `signal` fires or the client closes, until the call ends; then ends its span. */
  private track(call: ActiveCall, signal: AbortSignal | undefined, span?: TraceSpan): void {
    const onAbort = (): void => call.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.active.add(call);
    call.on('status', (status: grpc.StatusObject) => {
      signal?.removeEventListener('abort', onAbort);
      this.active.delete(call);
      span?.end(status.code, status.code === grpc.status.OK ? undefined : status.details);
    });
  }

  /** A span for a call made on behalf of a traced CRI call, and its trace-context headers (none without Tracing or outside one). */
  private clientSpan(path: string): CallSpan | undefined {
    if (!this.tracing) return undefined;
    const headers: [string, string][] = [];
    const span = this.tracing.startClientSpan(path.slice(1), (name, value) => headers.push([name, value]));
    return span && { span, headers };
  }

  /** The crikit error for a failed call: the caller's abort or deadline, the client's close, or containerd's status. */
  private failure(err: unknown, ctx: CallContext): CriError {
    if (ctx.signal?.aborted) return abortError(ctx.signal, ctx.doing);
    const code = (err as { code?: unknown }).code;
    if (this.closed && code === grpc.status.CANCELLED) {
      return new UnavailableError(`${ctx.doing}: containerd client closed`, { cause: err });
    }
    const mapped = fromGrpcError(err, ctx.doing);
    // containerd sees the deadline too and may end the call first with its own error (events.subscribe answers
    // UNKNOWN "context deadline exceeded"); once the deadline has passed, that is a deadline, not a bug.
    if (ctx.deadline !== undefined && Date.now() >= ctx.deadline && (mapped.kind === 'internal' || mapped.kind === 'cancelled')) {
      return new DeadlineExceededError(`${ctx.doing}: deadline exceeded`, { cause: err });
    }
    return mapped;
  }

  /** The channel, opened on first use. @throws UnavailableError once closed */
  private channel(doing: string): grpc.Client {
    if (this.closed) throw new UnavailableError(`${doing}: containerd client closed`);
    if (!this.client) {
      this.client = new grpc.Client(`unix://${this.address.socketPath}`, grpc.credentials.createInsecure(), channelOptions);
      this.watchReconnects(this.client.getChannel());
    }
    return this.client;
  }

  /**
   * Tells the RuntimeObserver each time the channel is READY again after having been READY before
   * (containerd restarted or the connection dropped; also after grpc-js's idle timeout, which a
   * polling kubelet never lets happen). A watch holds no timer, so it never keeps the process alive.
   */
  private watchReconnects(channel: ReturnType<grpc.Client['getChannel']>): void {
    let wasReady = false;
    const watch = (state: grpc.connectivityState): void => {
      if (this.closed || state === grpc.connectivityState.SHUTDOWN) return;
      channel.watchConnectivityState(state, Infinity, () => {
        const now = channel.getConnectivityState(false);
        if (now === grpc.connectivityState.READY) {
          if (wasReady) {
            this.log.info({ socket: this.address.socketPath }, 'reconnected to containerd');
            try { this.observer?.containerdReconnected(); } catch (err) { this.log.warn({ err }, 'runtime observer threw'); }
          }
          wasReady = true;
        }
        watch(now);
      });
    };
    watch(channel.getConnectivityState(false));
  }

  /**
   * containerd reads the namespace, and the lease that holds what the call creates, from these headers;
   * a traced call also carries its span's W3C trace context (`traceparent`), which containerd's own
   * tracing continues.
   */
  private metadata(ctx: CallContext, traced?: CallSpan): grpc.Metadata {
    const metadata = new grpc.Metadata();
    metadata.set('containerd-namespace', this.namespace);
    if (ctx.lease) metadata.set('containerd-lease', ctx.lease);
    for (const [name, value] of traced?.headers ?? []) metadata.set(name, value);
    return metadata;
  }
}

/**
 * Requests with an encoder of their own: content writes carry every byte of a pull, and the generated encoder
 * copies them more than it needs to (see write-content-request.ts).
 */
const ownEncoders: ReadonlyMap<MessageType<unknown>, (req: object) => Buffer> = new Map([
  [content.WriteContentRequest, encodeWriteContentRequest as (req: object) => Buffer],
]);

/** Encodes a partial request. @throws InvalidArgumentError when a field cannot be converted */
function encode(method: MethodDefinition, req: object, doing: string): Buffer {
  try {
    const own = ownEncoders.get(method.requestType);
    if (own) return own(req);
    const bytes = method.requestType.encode(method.requestType.fromPartial(req)).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (err) {
    throw new InvalidArgumentError(`${doing}: encode request: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** A traced call's span and the headers that carry its trace context. */
interface CallSpan {
  readonly span: TraceSpan;
  readonly headers: [string, string][];
}

/** What one call is doing, its caller's signal, its deadline (epoch ms) and its lease. */
interface CallContext {
  readonly doing: string;
  readonly signal: AbortSignal | undefined;
  readonly deadline: number | undefined;
  readonly lease: string | undefined;
}

function callContext(doing: string, opts: CallOptions): CallContext {
  const deadline = opts.timeoutMs === undefined ? undefined : Date.now() + opts.timeoutMs;
  return { doing, signal: opts.signal, deadline, lease: opts.lease };
}

/** A gRPC deadline only with `timeoutMs`: no default deadline, so long streams (events) are never cut. */
function grpcCallOptions(ctx: CallContext): grpc.CallOptions {
  return ctx.deadline === undefined ? {} : { deadline: ctx.deadline };
}
