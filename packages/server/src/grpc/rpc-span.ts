import type * as grpc from '@grpc/grpc-js';
import type { TraceAttributes, TraceSpan } from '@crikit/core';

/** The full method a call is for, as its span is named: `runtime.v1.RuntimeService/RunPodSandbox`. */
export function spanMethod(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): string {
  return call.getPath().replace(/^\//, '');
}

/** Reads a request header of a call (the caller's `traceparent`). */
export function callHeader(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): (name: string) => string | undefined {
  return name => {
    const v = call.metadata.get(name)[0];
    return typeof v === 'string' ? v : undefined;
  };
}

/** Ends a call's span with the ids and names its request and response carry, and the gRPC status. */
export function endRpcSpan(span: TraceSpan, req: unknown, res: unknown, code: number, message?: string): void {
  span.setAttributes(callAttributes(req, res));
  span.end(code, message);
}

/**
 * What identifies a call's objects: the pod sandbox and container ids (from the request, or from the
 * response of RunPodSandbox and CreateContainer), and the Kubernetes names a create carries.
 */
export function callAttributes(req: unknown, res: unknown): TraceAttributes {
  const out: Record<string, string> = {};
  const pod = field(req, 'podSandboxId') ?? field(res, 'podSandboxId');
  const container = field(req, 'containerId') ?? field(res, 'containerId');
  if (pod) out['cri.pod_sandbox.id'] = pod;
  if (container) out['cri.container.id'] = container;
  const configMeta = record(record(req, 'config'), 'metadata');
  const sandboxConfig = record(req, 'sandboxConfig');
  // CreateContainer: the container's config beside the pod's sandboxConfig. RunPodSandbox: the pod's
  // config, whose metadata (unlike a container's) has a uid.
  const podMeta = sandboxConfig ? record(sandboxConfig, 'metadata') : field(configMeta, 'uid') ? configMeta : undefined;
  for (const [key, attribute] of [['name', 'k8s.pod.name'], ['namespace', 'k8s.namespace.name'], ['uid', 'k8s.pod.uid']] as const) {
    const v = field(podMeta, key);
    if (v) out[attribute] = v;
  }
  const containerName = sandboxConfig ? field(configMeta, 'name') : undefined;
  if (containerName) out['k8s.container.name'] = containerName;
  return out;
}

function record(v: unknown, key: string): unknown {
  const x = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  return typeof x === 'object' && x !== null ? x : undefined;
}

function field(v: unknown, key: string): string | undefined {
  const x = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  return typeof x === 'string' && x !== '' ? x : undefined;
}
