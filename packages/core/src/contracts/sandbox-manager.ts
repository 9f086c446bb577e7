import type { cri } from '@crikit/api';
import type { SandboxId } from '../ids.js';
import type { SandboxRecord } from '../model/sandbox-record.js';

/** How much PodSandboxStatus reports. An options object, not a boolean parameter (CONTRIBUTING.md). */
export interface SandboxStatusOptions {
  /** Also fill `info` (runtime spec, pid, netns, CNI result), which costs calls to containerd. */
  readonly verbose?: boolean | undefined;
}

/** What PodSandboxStatus reports, before the server turns it into CRI messages. */
export interface SandboxStatusResult {
  readonly record: SandboxRecord;
  /** CRI `info`: JSON strings by key (containerd's is `info`); empty unless verbose. */
  readonly info: Readonly<Record<string, string>>;
}

/**
 * Pod sandbox lifecycle: RunPodSandbox, StopPodSandbox, RemovePodSandbox, PodSandboxStatus,
 * ListPodSandbox. Ids are full ids: the gRPC layer resolves short ids through SandboxStore first
 * (a miss on Stop or Remove is success there, as the CRI requires). Each change is committed to
 * the SandboxStore, then announced on the RuntimeEventBus.
 */
export interface SandboxManager {
  /**
   * Creates and starts a sandbox: reserve the name, ensure the pause image, pin the netns, attach
   * the network, write resolv.conf/hostname/hosts, start the pause container. A failure undoes
   * every step taken, in reverse, and stores nothing.
   * Not idempotent: a second call with the same pod metadata fails with AlreadyExistsError.
   * @returns the id of the new sandbox, which is ready
   * @throws InvalidArgumentError when the config lacks metadata or names an unknown runtime handler
   * @throws AlreadyExistsError when a sandbox with the same name exists (the message names it)
   * @throws UnavailableError when containerd or the pod network is not available
   * @throws CancelledError, DeadlineExceededError when `signal` fires
   */
  run(request: cri.RunPodSandboxRequest, signal: AbortSignal): Promise<SandboxId>;

  /**
   * Stops every container of the sandbox, detaches the network and stops the pause task; the
   * sandbox becomes notready. Idempotent: stopping a stopped or unknown id resolves
   * (CRI: StopPodSandbox must not fail once its resources are reclaimed).
   * @throws UnavailableError when containerd or the pod network is not available
   */
  stop(id: SandboxId, signal: AbortSignal): Promise<void>;

  /**
   * Stops the sandbox if needed, removes its containers, its containerd container, netns and
   * files, and deletes it from the store. Idempotent: removing an unknown id resolves.
   * @throws UnavailableError when containerd cannot be reached
   */
  remove(id: SandboxId, signal: AbortSignal): Promise<void>;

  /**
   * The sandbox's record, plus verbose info when asked.
   * @throws NotFoundError when the id is not stored
   */
  status(id: SandboxId, options: SandboxStatusOptions, signal: AbortSignal): Promise<SandboxStatusResult>;

  /**
   * The stored sandboxes matching a CRI filter (id prefix, state, labels); all when absent.
   * No I/O, so the kubelet's frequent relists stay cheap.
   */
  list(filter?: cri.PodSandboxFilter): readonly SandboxRecord[];
}
export const SandboxManager = Symbol('SandboxManager');
