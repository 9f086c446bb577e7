import type { cri } from '@crikit/api';
import type { ContainerId, ImageId, SandboxId } from '../ids.js';
import { deepFreeze } from '../util/deep-freeze.js';

/** The lifecycle state of a container inside crikit; `container-status.ts` has the diagram. */
export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';

/**
 * What is fixed when a container is created. Frozen; persisted (see `encodeContainerMetadata`) into
 * the extensions of its containerd container. Labels and annotations are those of `config`.
 */
export interface ContainerMetadata {
  /** The persisted format version. */
  readonly version: 1;
  readonly id: ContainerId;
  /** `<container>_<pod>_<namespace>_<pod uid>_<attempt>` (see `containerName`), unique among stored containers. */
  readonly name: string;
  readonly sandboxId: SandboxId;
  /** The config CreateContainer was called with. */
  readonly config: cri.ContainerConfig;
  /** CRI `image_ref`: the repo digest the image was resolved to, or the image id when it has none. */
  readonly imageRef: string;
  /** CRI `image_id`: the id (config digest) of the image the rootfs was made from. */
  readonly imageId: ImageId;
  /** Absolute path of the CRI log file (pod log directory + config.logPath); '' when the kubelet set none. */
  readonly logPath: string;
  /** Signal that StopContainer sends first: from the config, else the image's StopSignal, else SIGTERM. */
  readonly stopSignal: string;
  /** When the container was created, ns since the epoch. */
  readonly createdAt: bigint;
  /** The user its process runs as, resolved from the image and the config (CRI ContainerStatus.user). */
  readonly user?: { readonly uid: number; readonly gid: number; readonly additionalGids: readonly number[] } | undefined;
}

/** What changes over a container's life. Replaced as a whole through `ContainerStore.update`. */
export interface ContainerStatus {
  readonly state: ContainerState;
  /** Host pid of the container's init process; 0 when it is not running. */
  readonly pid: number;
  /** ns since the epoch; 0n until the task starts. */
  readonly startedAt: bigint;
  /** ns since the epoch; 0n until the task exits. */
  readonly finishedAt: bigint;
  /** Exit code of the init process; meaningful once `finishedAt` is set. */
  readonly exitCode: number;
  /** A short CamelCase reason for the state (`Completed`, `Error`, `OOMKilled`, `StartError`); '' if none. */
  readonly reason: string;
  /** A human-readable explanation to go with `reason`; '' if none. */
  readonly message: string;
  /** The resources last applied (CreateContainer, then UpdateContainerResources); reported by ContainerStatus. */
  readonly resources?: cri.ContainerResources | undefined;
}

/** A container as the store holds it: frozen metadata plus the latest status snapshot. */
export interface ContainerRecord {
  readonly metadata: ContainerMetadata;
  readonly status: ContainerStatus;
}

/** The status of a container that CreateContainer has just made. */
export const initialContainerStatus: ContainerStatus = deepFreeze({
  state: 'created', pid: 0, startedAt: 0n, finishedAt: 0n, exitCode: 0, reason: '', message: '',
});

/**
 * The unique CRI name of a container, as containerd's CRI builds it:
 * `<container name>_<pod name>_<pod namespace>_<pod uid>_<container attempt>`.
 */
export function containerName(container: cri.ContainerMetadata, pod: cri.PodSandboxMetadata): string {
  return [container.name, pod.name, pod.namespace, pod.uid, String(container.attempt)].join('_');
}

/** Builds a frozen record; the store freezes what it is given, so this is only a convenience. */
export function containerRecordOf(metadata: ContainerMetadata, status: ContainerStatus): ContainerRecord {
  return deepFreeze({ metadata, status });
}
