import type { cri } from '@crikit/api';
import type { SandboxId } from '../ids.js';
import { deepFreeze } from '../util/deep-freeze.js';

/** The lifecycle state of a sandbox inside crikit; `sandbox-status.ts` has the diagram. */
export type SandboxState = 'ready' | 'notready' | 'unknown';

/**
 * What is fixed when a sandbox is created. Frozen; persisted (see `encodeSandboxMetadata`) into the
 * extensions of the sandbox's containerd container, so a restart of crikit can rebuild the store.
 * Labels and annotations are those of `config`.
 */
export interface SandboxMetadata {
  /** The persisted format version; bumped (with a migration) when a field changes meaning. */
  readonly version: 1;
  readonly id: SandboxId;
  /** `name_namespace_uid_attempt` (see `sandboxName`), unique among stored sandboxes. */
  readonly name: string;
  /** The config RunPodSandbox was called with. */
  readonly config: cri.PodSandboxConfig;
  /** The runtime handler the pod asked for ('' means the default). */
  readonly runtimeHandler: string;
  /** The pinned network namespace; undefined for host-network pods. */
  readonly netnsPath?: string | undefined;
  /** When the sandbox was created, in nanoseconds since the epoch (the CRI's unit). */
  readonly createdAt: bigint;
}

/** What changes over a sandbox's life. Replaced as a whole through `SandboxStore.update`. */
export interface SandboxStatus {
  readonly state: SandboxState;
  /** Host pid of the sandbox's pause process; 0 when it is not running. */
  readonly pid: number;
  /** The primary pod IP ('' for host-network pods or before the network is attached). */
  readonly ip: string;
  /** Further pod IPs (dual stack), CRI `PodSandboxNetworkStatus.additional_ips`. */
  readonly additionalIps: readonly string[];
  /** Exit status of the pause process; meaningful once `exitedAt` is set. */
  readonly exitStatus: number;
  /** When the pause process exited, ns since the epoch; 0n while it has not. */
  readonly exitedAt: bigint;
}

/** A sandbox as the store holds it: frozen metadata plus the latest status snapshot. */
export interface SandboxRecord {
  readonly metadata: SandboxMetadata;
  readonly status: SandboxStatus;
}

/** The status of a sandbox that is being created: no process, no IP yet. */
export const initialSandboxStatus: SandboxStatus = deepFreeze({
  state: 'notready', pid: 0, ip: '', additionalIps: [], exitStatus: 0, exitedAt: 0n,
});

/**
 * The unique CRI name of a sandbox: `name_namespace_uid_attempt`, as containerd's CRI builds it.
 * @param meta the `metadata` of the PodSandboxConfig
 */
export function sandboxName(meta: cri.PodSandboxMetadata): string {
  return [meta.name, meta.namespace, meta.uid, String(meta.attempt)].join('_');
}

/** Builds a frozen record; the store freezes what it is given, so this is only a convenience. */
export function sandboxRecordOf(metadata: SandboxMetadata, status: SandboxStatus): SandboxRecord {
  return deepFreeze({ metadata, status });
}
