import { Any } from './gen/google/protobuf/any.js';
import type { MessageType } from './service-definition.js';

/** Packs a message into `google.protobuf.Any` under `typeUrl` (containerd uses bare names like `containerd.events.TaskExit`). */
export function packAny<T>(typeUrl: string, type: MessageType<T>, message: T): Any {
  return Any.fromPartial({ typeUrl, value: Buffer.from(type.encode(message).finish()) });
}

/**
 * Unpacks an `Any` when its type URL names `fullName` (with or without a `types.googleapis.com/` style prefix).
 * @returns undefined when the Any holds another type
 */
export function unpackAny<T>(any: Any | undefined, fullName: string, type: MessageType<T>): T | undefined {
  if (!any) return undefined;
  const name = any.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1);
  return name === fullName ? type.decode(any.value) : undefined;
}
