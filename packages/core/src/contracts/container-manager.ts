import type { cri } from '@crikit/api';
import type { ContainerId, SandboxId } from '../ids.js';
import type { ContainerRecord } from '../model/container-record.js';

/** CreateContainer's arguments, with the sandbox id already resolved by the gRPC layer. */
export interface ContainerCreateRequest {
  readonly sandboxId: SandboxId;
  readonly config: cri.ContainerConfig;
  /** The pod config the kubelet sends again with CreateContainer; the stored sandbox config is authoritative. */
  readonly sandboxConfig?: cri.PodSandboxConfig | undefined;
}

/** UpdateContainerResources' arguments without the (resolved) id. */
export type ContainerResourcesUpdate = Omit<cri.UpdateContainerResourcesRequest, 'containerId'>;

/** How much ContainerStatus reports. An options object, not a boolean parameter (CONTRIBUTING.md). */
export interface ContainerStatusOptions {
  /** Also fill `info` (runtime spec, pid, sandbox id), which costs calls to containerd. */
  readonly verbose?: boolean | undefined;
}

/** What ContainerStatus reports, before the server turns it into CRI messages. */
export interface ContainerStatusResult {
  readonly record: ContainerRecord;
  /** CRI `info`: JSON strings by key; empty unless verbose. */
  readonly info: Readonly<Record<string, string>>;
}

/** The outcome of ExecSync. */
export interface ExecSyncResult {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly exitCode: number;
}

/**
 * Container lifecycle and the RPCs on one container. Ids are full ids: the gRPC layer resolves
 * short ids through ContainerStore first. Each change is committed to the ContainerStore, then
 * announced on the RuntimeEventBus. Task exits arrive through containerd's event stream, not here.
 */
export interface ContainerManager {
  /**
   * Builds the OCI spec from the image config, the CRI config and the sandbox, prepares the rootfs
   * snapshot and creates the containerd container; the container is `created`. A failure undoes
   * every step taken. Not idempotent: the same name twice fails with AlreadyExistsError.
   * @throws NotFoundError when the sandbox or the image is not stored
   * @throws FailedPreconditionError when the sandbox is not ready
   * @throws AlreadyExistsError when a container with the same name exists
   * @throws InvalidArgumentError when the config lacks metadata or image, or is contradictory
   * @throws UnavailableError when containerd cannot be reached
   */
  create(request: ContainerCreateRequest, signal: AbortSignal): Promise<ContainerId>;

  /**
   * Opens stdio, attaches the log writer, creates and starts the task; the container is `running`.
   * Not idempotent. A failure leaves the container `exited` with reason StartError.
   * @throws NotFoundError when the id is not stored
   * @throws FailedPreconditionError when the container is not `created`
   * @throws UnavailableError when containerd cannot be reached
   */
  start(id: ContainerId, signal: AbortSignal): Promise<void>;

  /**
   * Sends the stop signal, waits up to `timeoutSeconds`, then SIGKILL (0 kills at once, as the CRI
   * says). Idempotent: stopping an exited, created or unknown id resolves.
   * @throws UnavailableError when containerd cannot be reached
   * @throws CancelledError, DeadlineExceededError when `signal` fires before the task exits
   */
  stop(id: ContainerId, timeoutSeconds: number, signal: AbortSignal): Promise<void>;

  /**
   * Kills a running container, then removes its task, containerd container, snapshot, FIFOs and
   * log writer, and deletes it from the store. Idempotent: removing an unknown id resolves.
   * @throws UnavailableError when containerd cannot be reached
   */
  remove(id: ContainerId, signal: AbortSignal): Promise<void>;

  /**
   * The container's record, plus verbose info when asked.
   * @throws NotFoundError when the id is not stored
   */
  status(id: ContainerId, options: ContainerStatusOptions, signal: AbortSignal): Promise<ContainerStatusResult>;

  /** The stored containers matching a CRI filter (id and sandbox prefixes, state, labels); all when absent. No I/O. */
  list(filter?: cri.ContainerFilter): readonly ContainerRecord[];

  /**
   * Applies new resource limits to the container (and its task if running) and records them.
   * Idempotent: the same update twice leaves the same limits.
   * @throws NotFoundError when the id is not stored
   * @throws FailedPreconditionError when the container has exited
   * @throws InvalidArgumentError when the limits are invalid
   */
  updateResources(id: ContainerId, update: ContainerResourcesUpdate, signal: AbortSignal): Promise<void>;

  /**
   * Runs `cmd` in the running container and collects its output. `timeoutSeconds` 0 means no
   * timeout (CRI); on timeout the process is killed and DeadlineExceededError thrown.
   * @throws NotFoundError when the id is not stored
   * @throws FailedPreconditionError when the container is not running
   * @throws DeadlineExceededError when the command outlives `timeoutSeconds`
   */
  execSync(id: ContainerId, cmd: readonly string[], timeoutSeconds: number, signal: AbortSignal): Promise<ExecSyncResult>;

  /**
   * Reopens the container's log file after the kubelet rotated it (ReopenContainerLog).
   * Idempotent: reopening twice just reopens again.
   * @throws NotFoundError when the id is not stored
   * @throws FailedPreconditionError when the container is not running (the CRI lets a runtime refuse)
   */
  reopenLog(id: ContainerId, signal: AbortSignal): Promise<void>;
}
export const ContainerManager = Symbol('ContainerManager');
