/** Attribute values a span carries. */
export type TraceAttributes = Readonly<Record<string, string | number | boolean>>;

/** A span in progress, ended once. */
export interface TraceSpan {
  /** Adds attributes (pod and container ids, names). */
  setAttributes(attributes: TraceAttributes): void;
  /**
   * Ends the span with the gRPC status code its call ended with (0 is OK; any other marks the span
   * failed, with `message`). Idempotent: only the first call counts.
   */
  end(code: number, message?: string): void;
}

/**
 * Traces crikit's work: a server span for each CRI call and, beneath it, a client span for each
 * containerd call made on its behalf (in any async continuation of the handler). Bound only when
 * tracing is configured; consumers inject it as optional, so without a binding nothing is traced and
 * nothing is paid.
 */
export interface Tracing {
  /**
   * Runs `fn` with a new server span current and returns what it returns; the span is `fn`'s to end.
   * @param method the full gRPC method, e.g. `runtime.v1.RuntimeService/RunPodSandbox`
   * @param header reads the caller's request headers (`traceparent`), so a kubelet's trace continues here
   */
  inServerSpan<T>(method: string, header: (name: string) => string | undefined, fn: (span: TraceSpan) => T): T;
  /**
   * Starts a client span under the current server span, or returns undefined when none is current
   * (start-up, background work): those calls are not traced.
   * @param method the full gRPC method, e.g. `containerd.services.tasks.v1.Tasks/Create`
   * @param setHeader receives the headers that carry the trace context to the server (`traceparent`)
   */
  startClientSpan(method: string, setHeader: (name: string, value: string) => void): TraceSpan | undefined;
}
export const Tracing = Symbol('Tracing');
