import { cri } from '@crikit/api';
import type { ContainerId, ImageId, SandboxId } from '../ids.js';
import { decodeContainerMetadata, decodeContainerStatus } from './container-codec.js';
import { containerRecordOf, initialContainerStatus, type ContainerMetadata, type ContainerRecord, type ContainerStatus } from './container-record.js';
import { decodeSandboxMetadata, decodeSandboxStatus } from './sandbox-codec.js';
import { initialSandboxStatus, sandboxRecordOf, type SandboxMetadata, type SandboxRecord, type SandboxStatus } from './sandbox-record.js';

/** What recovery read for one object: its containerd container id and the persisted documents. */
export interface PersistedDocuments {
  /** The containerd container id, which is also the CRI id. */
  readonly id: string;
  /** The persisted metadata document (undefined when the extension is missing). */
  readonly metadata: unknown;
  /** The persisted status document (undefined when there is none). */
  readonly status?: unknown;
  /** The containerd container's creation time (ns), used when the metadata cannot be read. */
  readonly createdAt?: bigint | undefined;
}

/** A recovered record and why it is (partly) unknown; `problems` is empty when both documents decoded. */
export interface RecoveredRecord<R> {
  readonly record: R;
  readonly problems: readonly string[];
}

/**
 * Rebuilds a sandbox record from its persisted documents, never failing: undecodable metadata
 * gives a placeholder (named after the id, empty config), and undecodable or missing status gives
 * state `unknown`. The caller logs `problems` and refines the state from the pause task.
 * A placeholder is named by its id, which cannot clash with a real name (those contain `_`).
 */
export function recoverSandboxRecord(docs: PersistedDocuments): RecoveredRecord<SandboxRecord> {
  const problems: string[] = [];
  const metadata = attempt(() => checkId(decodeSandboxMetadata(docs.metadata), docs.id), problems) ?? {
    version: 1, id: docs.id as SandboxId, name: docs.id,
    config: cri.PodSandboxConfig.fromPartial({}), runtimeHandler: '', createdAt: docs.createdAt ?? 0n,
  } satisfies SandboxMetadata;
  let status: SandboxStatus = { ...initialSandboxStatus, state: 'unknown' };
  if (problems.length === 0 && docs.status !== undefined) status = attempt(() => decodeSandboxStatus(docs.status), problems) ?? status;
  return { record: sandboxRecordOf(metadata, status), problems };
}

/**
 * Rebuilds a container record from its persisted documents, never failing: undecodable metadata
 * gives a placeholder (named after the id, empty config, no sandbox), and undecodable or missing
 * status gives state `unknown`. The caller logs `problems` and refines the state from the task.
 */
export function recoverContainerRecord(docs: PersistedDocuments & { readonly sandboxId?: string }): RecoveredRecord<ContainerRecord> {
  const problems: string[] = [];
  const metadata = attempt(() => checkId(decodeContainerMetadata(docs.metadata), docs.id), problems) ?? {
    version: 1, id: docs.id as ContainerId, name: docs.id, sandboxId: (docs.sandboxId ?? '') as SandboxId,
    config: cri.ContainerConfig.fromPartial({}), imageRef: '', imageId: '' as ImageId, logPath: '',
    stopSignal: 'SIGTERM', createdAt: docs.createdAt ?? 0n,
  } satisfies ContainerMetadata;
  let status: ContainerStatus = { ...initialContainerStatus, state: 'unknown' };
  if (problems.length === 0 && docs.status !== undefined) status = attempt(() => decodeContainerStatus(docs.status), problems) ?? status;
  return { record: containerRecordOf(metadata, status), problems };
}

/** The metadata, provided it describes the object it was stored on. */
function checkId<M extends { readonly id: string }>(metadata: M, id: string): M {
  if (metadata.id !== id) throw new Error(`metadata is for "${metadata.id}", not "${id}"`);
  return metadata;
}

function attempt<T>(fn: () => T, problems: string[]): T | undefined {
  try {
    return fn();
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
    return undefined;
  }
}
