import type { MethodDefinition, PartialMessage, RequestOf, ResponseOf, ServiceDefinition, containers } from '@crikit/api';
import {
  containerdServices, type CallOptions, type ContainerdClient, type ContainerdServices, type DuplexCall, type ServiceFacade,
} from '../contracts/containerd-client.js';
import { abortError, CancelledError, UnavailableError, UnimplementedError } from '../errors.js';
import { AsyncQueue } from './async-queue.js';
import { installInMemoryContainerd } from './fake-containerd-defaults.js';

type ServiceName = keyof ContainerdServices;
type MethodKey<S extends ServiceName> = keyof ContainerdServices[S]['methods'] & string;

/** Every method of the containerd port as `service.method`, e.g. `containers.create`, `tasks.start`. */
export type ContainerdMethodName = { [S in ServiceName]: `${S}.${MethodKey<S>}` }[ServiceName];

/** The ts-proto definition of a method, by its `service.method` name. */
export type ContainerdMethodDef<N extends ContainerdMethodName> =
  N extends `${infer S}.${infer M}` ? S extends ServiceName ? M extends MethodKey<S> ? ContainerdServices[S]['methods'][M] : never : never : never;

/**
 * How the fake answers one method. Unary: the (partial) response, or a promise of it. Server
 * stream: an iterable of (partial) responses. Bidirectional: a function of the request stream.
 * Requests arrive complete (`fromPartial` applied); responses are completed the same way.
 * Throw a crikit error to answer with it.
 */
export type FakeContainerdHandler<D> =
  D extends { requestStream: true }
    ? (requests: AsyncIterable<RequestOf<D>>, opts: CallOptions) => AsyncIterable<PartialMessage<ResponseOf<D>>>
    : D extends { responseStream: true }
      ? (request: RequestOf<D>, opts: CallOptions) => AsyncIterable<PartialMessage<ResponseOf<D>>> | Iterable<PartialMessage<ResponseOf<D>>>
      : (request: RequestOf<D>, opts: CallOptions) => PartialMessage<ResponseOf<D>> | Promise<PartialMessage<ResponseOf<D>>>;

/** Every name a FakeContainerd records: the service methods plus the client's own methods. */
export type FakeContainerdMethod = ContainerdMethodName | 'waitReady' | 'isHealthy' | 'close';

/** One recorded call. A bidirectional call records its opening (request undefined), then each message sent. */
export interface FakeContainerdCall {
  readonly method: FakeContainerdMethod;
  readonly request: unknown;
}

type AnyHandler = (request: unknown, opts: CallOptions) => unknown;

/**
 * The whole ContainerdClient port in memory. Every method goes through one handler table: a
 * method without a handler rejects with UnimplementedError naming it; `handle` installs or
 * replaces one. Out of the box, `version.version`, `namespaces.list` and the `containers` service
 * (create, get, list, listStream, update, delete) work in memory. Every call is recorded, and
 * `failNext` makes the next call of a method fail.
 */
export class FakeContainerd implements ContainerdClient {
  /** Every call, in order. */
  readonly calls: FakeContainerdCall[] = [];
  /** What `isHealthy` answers. */
  healthy = true;
  /** The containerd containers the in-memory `containers` service holds, by id. */
  readonly containerRecords = new Map<string, containers.Container>();
  private readonly handlers = new Map<string, AnyHandler>();
  private readonly failures = new Map<string, unknown[]>();
  private closed = false;

  readonly containers: ContainerdClient['containers'] = this.facade('containers');
  readonly content: ContainerdClient['content'] = this.facade('content');
  readonly diff: ContainerdClient['diff'] = this.facade('diff');
  readonly events: ContainerdClient['events'] = this.facade('events');
  readonly images: ContainerdClient['images'] = this.facade('images');
  readonly introspection: ContainerdClient['introspection'] = this.facade('introspection');
  readonly leases: ContainerdClient['leases'] = this.facade('leases');
  readonly namespaces: ContainerdClient['namespaces'] = this.facade('namespaces');
  readonly snapshots: ContainerdClient['snapshots'] = this.facade('snapshots');
  readonly tasks: ContainerdClient['tasks'] = this.facade('tasks');
  readonly version: ContainerdClient['version'] = this.facade('version');

  constructor(readonly namespace = 'k8s.io') {
    installInMemoryContainerd(this);
  }

  /** Installs (or replaces) how `method` is answered. Returns the fake, for chaining. */
  handle<N extends ContainerdMethodName>(method: N, handler: FakeContainerdHandler<ContainerdMethodDef<N>>): this {
    // The handler's type was checked against the method above; the table stores them alike.
    this.handlers.set(method, handler as unknown as AnyHandler);
    return this;
  }

  /** Makes the next call of `method` fail with `err` (first in, first out). */
  failNext(method: FakeContainerdMethod, err: unknown): void {
    const queue = this.failures.get(method) ?? [];
    queue.push(err);
    this.failures.set(method, queue);
  }

  /** The (complete) requests recorded for `method`, in order. */
  requestsTo<N extends ContainerdMethodName>(method: N): RequestOf<ContainerdMethodDef<N>>[] {
    return this.calls.filter(c => c.method === method && c.request !== undefined).map(c => c.request as RequestOf<ContainerdMethodDef<N>>);
  }

  async waitReady(signal: AbortSignal): Promise<void> {
    this.calls.push({ method: 'waitReady', request: undefined });
    this.check('waitReady', { signal });
  }

  async isHealthy(signal: AbortSignal): Promise<boolean> {
    this.calls.push({ method: 'isHealthy', request: undefined });
    this.check('isHealthy', { signal });
    return this.healthy;
  }

  close(): void {
    this.calls.push({ method: 'close', request: undefined });
    this.closed = true;
  }

  /** Throws what the next call of `method` must fail with: closed client, aborted signal, queued error. */
  private check(method: string, opts: CallOptions): void {
    if (this.closed) throw new UnavailableError(`${method}: containerd client is closed`);
    if (opts.signal?.aborted) throw abortError(opts.signal, method);
    const queued = this.failures.get(method);
    if (queued && queued.length > 0) throw queued.shift();
  }

  private handlerFor(method: string): AnyHandler {
    const handler = this.handlers.get(method);
    if (handler) return handler;
    return () => { throw new UnimplementedError(`fake containerd: ${method} has no handler (install one with handle())`); };
  }

  private facade<S extends ServiceName>(service: S): ServiceFacade<ContainerdServices[S]> {
    const def: ServiceDefinition = containerdServices[service];
    const methods: Record<string, unknown> = {};
    for (const [key, method] of Object.entries(def.methods)) {
      const name = `${service}.${key}`;
      methods[key] = method.requestStream
        ? (opts?: CallOptions) => this.duplex(name, method, opts ?? {})
        : method.responseStream
          ? (req: unknown, opts?: CallOptions) => this.serverStream(name, method, req, opts ?? {})
          : (req: unknown, opts?: CallOptions) => this.unary(name, method, req, opts ?? {});
    }
    // Built from the very definitions ServiceFacade is mapped over, so every method is present.
    return methods as ServiceFacade<ContainerdServices[S]>;
  }

  private async unary(name: string, method: MethodDefinition, partial: unknown, opts: CallOptions): Promise<unknown> {
    const request = method.requestType.fromPartial(partial ?? {});
    this.calls.push({ method: name as FakeContainerdMethod, request });
    this.check(name, opts);
    return method.responseType.fromPartial(await this.handlerFor(name)(request, opts));
  }

  private serverStream(name: string, method: MethodDefinition, partial: unknown, opts: CallOptions): AsyncIterable<unknown> {
    const request = method.requestType.fromPartial(partial ?? {});
    this.calls.push({ method: name as FakeContainerdMethod, request });
    // Decide the failure now, as a real call would, but report it on the first read.
    const start = this.attempt(() => { this.check(name, opts); return this.handlerFor(name); });
    return (async function* () {
      const responses = start()(request, opts) as AsyncIterable<unknown> | Iterable<unknown>;
      for await (const response of responses) yield method.responseType.fromPartial(response);
    })();
  }

  private duplex(name: string, method: MethodDefinition, opts: CallOptions): DuplexCall<unknown, unknown> {
    this.calls.push({ method: name as FakeContainerdMethod, request: undefined });
    const start = this.attempt(() => { this.check(name, opts); return this.handlerFor(name); });
    const requests = new AsyncQueue<unknown>();
    return {
      send: async req => {
        const request = method.requestType.fromPartial(req);
        this.calls.push({ method: name as FakeContainerdMethod, request });
        requests.push(request);
      },
      end: () => requests.end(),
      cancel: () => requests.fail(new CancelledError(`${name}: cancelled`)),
      responses: (async function* () {
        const responses = start()(requests, opts) as AsyncIterable<unknown>;
        for await (const response of responses) yield method.responseType.fromPartial(response);
      })(),
    };
  }

  /** Runs `fn` now and returns a function that gives its result, or throws its error, later. */
  private attempt<T>(fn: () => T): () => T {
    try {
      const value = fn();
      return () => value;
    } catch (err) {
      return () => { throw err; };
    }
  }
}
