import { z } from 'zod';
import { cri } from '@crikit/api';
import { InvalidArgumentError } from '../errors.js';
import type { ContainerId, ImageId, SandboxId } from '../ids.js';
import type { ContainerMetadata, ContainerStatus } from './container-record.js';
import { messageToJson, persistedBigint, persistedMessage } from './persisted-bigint.js';

/**
 * Container metadata as persisted in the containerd container's extensions (JSON).
 * `version` is a literal: a document written by a future format fails to decode and the container
 * is recovered as `unknown` rather than misread.
 */
export const persistedContainerMetadataSchema = z.object({
  version: z.literal(1),
  id: z.string().min(1).transform(s => s as ContainerId),
  name: z.string().min(1),
  sandboxId: z.string().min(1).transform(s => s as SandboxId),
  config: persistedMessage(cri.ContainerConfig, 'config')
    .refine(c => c.metadata !== undefined, 'config.metadata is required'),
  imageRef: z.string(),
  imageId: z.string().transform(s => s as ImageId),
  logPath: z.string(),
  stopSignal: z.string(),
  createdAt: persistedBigint,
  user: z.object({ uid: z.number().int(), gid: z.number().int(), additionalGids: z.array(z.number().int()) }).optional(),
});
/** The JSON document `encodeContainerMetadata` writes. */
export type PersistedContainerMetadata = z.input<typeof persistedContainerMetadataSchema>;

/** Container status as persisted (a checkpoint; the exit code must survive a restart of crikit). */
export const persistedContainerStatusSchema = z.object({
  version: z.literal(1),
  state: z.enum(['created', 'running', 'exited', 'unknown']),
  pid: z.number().int().nonnegative(),
  startedAt: persistedBigint,
  finishedAt: persistedBigint,
  exitCode: z.number().int(),
  reason: z.string(),
  message: z.string(),
  resources: persistedMessage(cri.ContainerResources, 'resources').optional(),
});
/** The JSON document `encodeContainerStatus` writes. */
export type PersistedContainerStatus = z.input<typeof persistedContainerStatusSchema>;

/** The JSON-safe form of container metadata (bigints as decimal strings, the config as CRI JSON). */
export function encodeContainerMetadata(m: ContainerMetadata): PersistedContainerMetadata {
  return {
    version: 1, id: m.id, name: m.name, sandboxId: m.sandboxId,
    config: messageToJson(cri.ContainerConfig, m.config),
    imageRef: m.imageRef, imageId: m.imageId, logPath: m.logPath, stopSignal: m.stopSignal,
    createdAt: m.createdAt.toString(),
    ...(m.user ? { user: { uid: m.user.uid, gid: m.user.gid, additionalGids: [...m.user.additionalGids] } } : {}),
  };
}

/**
 * Reads what `encodeContainerMetadata` wrote.
 * @throws InvalidArgumentError listing every problem when `input` is not a version-1 document
 */
export function decodeContainerMetadata(input: unknown): ContainerMetadata {
  const parsed = persistedContainerMetadataSchema.safeParse(input);
  if (!parsed.success) throw new InvalidArgumentError(`decode container metadata: ${z.prettifyError(parsed.error)}`);
  const { user, ...metadata } = parsed.data;
  return user === undefined ? metadata : { ...metadata, user };
}

/** The JSON-safe form of a container status. */
export function encodeContainerStatus(s: ContainerStatus): PersistedContainerStatus {
  return {
    version: 1, state: s.state, pid: s.pid, startedAt: s.startedAt.toString(), finishedAt: s.finishedAt.toString(),
    exitCode: s.exitCode, reason: s.reason, message: s.message,
    ...(s.resources !== undefined ? { resources: messageToJson(cri.ContainerResources, s.resources) } : {}),
  };
}

/**
 * Reads what `encodeContainerStatus` wrote.
 * @throws InvalidArgumentError listing every problem when `input` is not a version-1 document
 */
export function decodeContainerStatus(input: unknown): ContainerStatus {
  const parsed = persistedContainerStatusSchema.safeParse(input);
  if (!parsed.success) throw new InvalidArgumentError(`decode container status: ${z.prettifyError(parsed.error)}`);
  const { version: _version, resources, ...status } = parsed.data;
  return resources === undefined ? status : { ...status, resources };
}
