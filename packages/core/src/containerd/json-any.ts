import { Any } from '@crikit/api';
import type { ContainerdClient } from '../contracts/containerd-client.js';
import { ignoreNotFound } from '../errors.js';

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

/**
 * Writes one JSON extension of containerd container `id` (crikit's persisted status), leaving the
 * rest of the container alone. A container that is gone is fine: there is nothing left to keep.
 */
export async function writeExtension(containerd: ContainerdClient, id: string, key: string, value: unknown, signal: AbortSignal): Promise<void> {
  await ignoreNotFound(containerd.containers.update({ container: { id, extensions: { [key]: jsonAny(key, value) } }, updateMask: [`extensions.${key}`] }, { signal }));
}
