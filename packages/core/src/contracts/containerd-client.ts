import {
  containers, content, diff, events, images, introspection, leases, namespaces, snapshots, tasks, version,
  type MethodDefinition, type PartialMessage, type RequestOf, type ResponseOf, type ServiceDefinition,
} from '@crikit/api';

/** containerd's gRPC services that crikit drives, by the property name they have on the client. */
export interface ContainerdServices {
  readonly containers: typeof containers.ContainersDefinition;
  readonly content: typeof content.ContentDefinition;
  readonly diff: typeof diff.DiffDefinition;
  readonly events: typeof events.EventsDefinition;
  readonly images: typeof images.ImagesDefinition;
  readonly introspection: typeof introspection.IntrospectionDefinition;
  readonly leases: typeof leases.LeasesDefinition;
  readonly namespaces: typeof namespaces.NamespacesDefinition;
  readonly snapshots: typeof snapshots.SnapshotsDefinition;
  readonly tasks: typeof tasks.TasksDefinition;
  readonly version: typeof version.VersionDefinition;
}
export const containerdServices: ContainerdServices = {
  containers: containers.ContainersDefinition,
  content: content.ContentDefinition,
  diff: diff.DiffDefinition,
  events: events.EventsDefinition,
  images: images.ImagesDefinition,
  introspection: introspection.IntrospectionDefinition,
  leases: leases.LeasesDefinition,
  namespaces: namespaces.NamespacesDefinition,
  snapshots: snapshots.SnapshotsDefinition,
  tasks: tasks.TasksDefinition,
  version: version.VersionDefinition,
};

/** Per-call options: cancellation and a deadline. */
export interface CallOptions {
  /** Cancels the call; an aborted call rejects with CancelledError or DeadlineExceededError. */
  signal?: AbortSignal;
  /** A deadline for this call alone, in milliseconds from now. */
  timeoutMs?: number;
  /** A containerd lease id (`containerd-lease` header): what the call creates is held by the lease until it is deleted. */
  lease?: string;
}

/** Both ends of a bidirectional stream (content Write). */
export interface DuplexCall<Req, Res> {
  /** Sends one request; resolves once gRPC has taken it (honours back-pressure). */
  send(req: PartialMessage<Req>): Promise<void>;
  /** Half-closes the sending side. */
  end(): void;
  /** The responses, in order; errors arrive as crikit errors. */
  responses: AsyncIterable<Res>;
  /** Abandons the call. */
  cancel(): void;
}

type Unary<M> = (req: PartialMessage<RequestOf<M>>, opts?: CallOptions) => Promise<ResponseOf<M>>;
type ServerStream<M> = (req: PartialMessage<RequestOf<M>>, opts?: CallOptions) => AsyncIterable<ResponseOf<M>>;
type Duplex<M> = (opts?: CallOptions) => DuplexCall<RequestOf<M>, ResponseOf<M>>;

/** The call shape of one method: unary → promise, server stream → async iterable, bidi → DuplexCall. */
export type MethodFacade<M> = M extends { requestStream: true } ? Duplex<M>
  : M extends { responseStream: true } ? ServerStream<M>
  : Unary<M>;

/** Promise-based facade over one containerd service definition. Requests take partial messages. */
export type ServiceFacade<S extends ServiceDefinition> = {
  readonly [K in keyof S['methods']]: S['methods'][K] extends MethodDefinition ? MethodFacade<S['methods'][K]> : never;
};

/**
 * The port through which every package talks to containerd. Implemented by `@crikit/containerd`,
 * the only code that sets the `containerd-namespace` header. Every call rejects with a crikit error
 * (containerd's NotFound → NotFoundError, Unavailable → UnavailableError, …).
 */
export type ContainerdClient = {
  readonly [K in keyof ContainerdServices]: ServiceFacade<ContainerdServices[K]>;
} & {
  /** The containerd namespace every call is made in (default `k8s.io`). */
  readonly namespace: string;
  /** Resolves once containerd answers; retries with backoff until `signal` fires. */
  waitReady(signal: AbortSignal): Promise<void>;
  /** True when the last health check succeeded. */
  isHealthy(signal: AbortSignal): Promise<boolean>;
  /** Closes the channel; later calls reject with UnavailableError. Idempotent. */
  close(): void;
};
export const ContainerdClient = Symbol('ContainerdClient');
