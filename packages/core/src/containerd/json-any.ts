import { Any } from '@crikit/api';

/** Wraps a JSON-safe value in `google.protobuf.Any` (how crikit stores its records in containerd extensions). */
export function jsonAny(typeUrl: string, value: unknown): Any {
  return Any.fromPartial({ typeUrl, value: Buffer.from(JSON.stringify(value)) });
}

/** The JSON inside an Any written by `jsonAny`; undefined when absent, unparsable or of another type. */
export function parseJsonAny(any: Any | undefined, typeUrl: string): unknown {
  if (!any || any.typeUrl !== typeUrl) return undefined;
  try {
    return JSON.parse(Buffer.from(any.value).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** containerd labels and extension keys crikit writes on its containers. */
export const CrikitKeys = {
  /** Label: `sandbox` or `container`, as containerd's CRI labels them. */
  kind: 'io.cri-containerd.kind',
  /** Extension holding the frozen metadata (SandboxMetadata / ContainerMetadata, encoded). */
  sandboxMetadata: 'io.crikit.sandbox.metadata',
  sandboxStatus: 'io.crikit.sandbox.status',
  containerMetadata: 'io.crikit.container.metadata',
  containerStatus: 'io.crikit.container.status',
} as const;
