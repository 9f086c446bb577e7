import { z } from 'zod';
import { cri } from '@crikit/api';
import { InvalidArgumentError } from '../errors.js';
import type { SandboxId } from '../ids.js';
import { messageToJson, persistedBigint, persistedMessage } from './persisted-bigint.js';
import type { SandboxMetadata, SandboxStatus } from './sandbox-record.js';

/**
 * Sandbox metadata as persisted in the containerd container's extensions (JSON).
 * `version` is a literal: a document written by a future format fails to decode and the sandbox is
 * recovered as `unknown` rather than misread.
 */
export const persistedSandboxMetadataSchema = z.object({
  version: z.literal(1),
  id: z.string().min(1).transform(s => s as SandboxId),
  name: z.string().min(1),
  config: persistedMessage(cri.PodSandboxConfig, 'config')
    .refine(c => c.metadata !== undefined, 'config.metadata is required'),
  runtimeHandler: z.string(),
  netnsPath: z.string().optional(),
  createdAt: persistedBigint,
});
/** The JSON document `encodeSandboxMetadata` writes. */
export type PersistedSandboxMetadata = z.input<typeof persistedSandboxMetadataSchema>;

/** Sandbox status as persisted (a checkpoint of the last known state; recovery refines it from the task). */
export const persistedSandboxStatusSchema = z.object({
  version: z.literal(1),
  state: z.enum(['ready', 'notready', 'unknown']),
  pid: z.number().int().nonnegative(),
  ip: z.string(),
  additionalIps: z.array(z.string()),
  exitStatus: z.number().int(),
  exitedAt: persistedBigint,
});
/** The JSON document `encodeSandboxStatus` writes. */
export type PersistedSandboxStatus = z.input<typeof persistedSandboxStatusSchema>;

/** The JSON-safe form of sandbox metadata (bigints as decimal strings, the config as CRI JSON). */
export function encodeSandboxMetadata(m: SandboxMetadata): PersistedSandboxMetadata {
  return {
    version: 1,
    id: m.id,
    name: m.name,
    config: messageToJson(cri.PodSandboxConfig, m.config),
    runtimeHandler: m.runtimeHandler,
    ...(m.netnsPath !== undefined ? { netnsPath: m.netnsPath } : {}),
    createdAt: m.createdAt.toString(),
  };
}

/**
 * Reads what `encodeSandboxMetadata` wrote.
 * @throws InvalidArgumentError listing every problem when `input` is not a version-1 document
 */
export function decodeSandboxMetadata(input: unknown): SandboxMetadata {
  const parsed = persistedSandboxMetadataSchema.safeParse(input);
  if (!parsed.success) throw new InvalidArgumentError(`decode sandbox metadata: ${z.prettifyError(parsed.error)}`);
  const { netnsPath, ...rest } = parsed.data;
  return netnsPath === undefined ? rest : { ...rest, netnsPath };
}

/** The JSON-safe form of a sandbox status. */
export function encodeSandboxStatus(s: SandboxStatus): PersistedSandboxStatus {
  return {
    version: 1, state: s.state, pid: s.pid, ip: s.ip, additionalIps: [...s.additionalIps],
    exitStatus: s.exitStatus, exitedAt: s.exitedAt.toString(),
  };
}

/**
 * Reads what `encodeSandboxStatus` wrote.
 * @throws InvalidArgumentError listing every problem when `input` is not a version-1 document
 */
export function decodeSandboxStatus(input: unknown): SandboxStatus {
  const parsed = persistedSandboxStatusSchema.safeParse(input);
  if (!parsed.success) throw new InvalidArgumentError(`decode sandbox status: ${z.prettifyError(parsed.error)}`);
  const { version: _version, ...status } = parsed.data;
  return status;
}
