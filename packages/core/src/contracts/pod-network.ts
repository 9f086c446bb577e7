import type { cri } from '@crikit/api';
import type { SandboxId } from '../ids.js';
import type { Subscribable } from '../util/subscribable.js';

/** Traffic shaping for a pod (CNI `bandwidth` capability), parsed by the sandbox from `kubernetes.io/{in,e}gress-bandwidth`. */
export interface PodBandwidth {
  readonly ingressBitsPerSecond?: number | undefined;
  readonly egressBitsPerSecond?: number | undefined;
}

/** Everything a network backend needs to know about a pod: identity, netns and the CNI capability args. */
export interface PodRef {
  readonly id: SandboxId;
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  /** The pod's pinned network namespace (CNI_NETNS). */
  readonly netnsPath: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Host port mappings (CNI `portMappings` capability). */
  readonly portMappings: readonly cri.PortMapping[];
  /** The pod's DNS config (CNI `dns` capability); undefined when the kubelet sent none. */
  readonly dns?: cri.DNSConfig | undefined;
  /** The pod's cgroup parent (CNI `cgroupPath` capability); '' when unset. */
  readonly cgroupParent: string;
  readonly bandwidth?: PodBandwidth | undefined;
}

/** One interface the backend set up. */
export interface PodInterface {
  readonly name: string;
  readonly mac: string;
  /** The netns path for an interface inside the pod; '' for a host-side one. */
  readonly sandbox: string;
}

/** The outcome of attaching a pod. */
export interface PodNetworkResult {
  /** Pod IPs without prefix length, primary first (IPv4 before IPv6 when both, as containerd picks). */
  readonly ips: readonly string[];
  readonly interfaces: readonly PodInterface[];
  /** The backend's raw result (a CNI result), JSON-safe, shown by verbose PodSandboxStatus. */
  readonly raw?: unknown;
}

/** Whether pods can be networked, as the CRI Status RPC reports the NetworkReady condition. */
export interface NetworkCondition {
  readonly ready: boolean;
  /** CamelCase reason when not ready (`NetworkPluginNotReady`); '' when ready. */
  readonly reason: string;
  readonly message: string;
}

/** Events of the pod network. */
export interface PodNetworkEvents {
  /** The condition changed (a config appeared or broke); the payload is the new condition. */
  'network:status-changed': [condition: NetworkCondition];
}

/**
 * Attaches pods to the node network (CNI in `network-cni`; an embedder may rebind it). Host-network
 * pods never reach it. `attach` and `detach` are idempotent, so a retried RunPodSandbox or
 * StopPodSandbox is safe.
 */
export interface PodNetwork {
  /**
   * Sets up the pod's interfaces in its netns (CNI ADD). Idempotent: a pod already attached gets
   * its cached result.
   * @throws UnavailableError while no network config is loaded
   * @throws InvalidArgumentError when the backend refuses the pod's capability args
   * @throws CancelledError, DeadlineExceededError when `signal` fires
   */
  attach(pod: PodRef, signal: AbortSignal): Promise<PodNetworkResult>;

  /**
   * Tears down what `attach` set up (CNI DEL), also when the netns is already gone.
   * Idempotent: detaching a pod that is not attached resolves.
   * @throws UnavailableError when the backend cannot run (the caller retries on the next stop)
   */
  detach(pod: PodRef, signal: AbortSignal): Promise<void>;

  /**
   * Verifies that the pod's networking is still as attached (CNI CHECK). Read-only.
   * @throws FailedPreconditionError when the pod is not attached or its network is broken
   * @throws UnavailableError while no network config is loaded
   */
  check(pod: PodRef, signal: AbortSignal): Promise<void>;

  /**
   * Releases what attachments of pods not in `keep` still hold (a RunPodSandbox or StopPodSandbox cut short
   * by a crash): CNI DEL from the cache, then CNI GC where the network supports it. Run at start-up, when
   * `keep` is every pod there is. Optional: a backend that keeps no state across restarts leaves it out.
   * @throws the first failure, after every stale attachment was tried
   */
  collectGarbage?(keep: readonly SandboxId[], signal: AbortSignal): Promise<void>;

  /** The current condition, read from memory, so the Status RPC stays cheap. */
  status(): NetworkCondition;

  /** Where to hear about condition changes (on/once/off only). */
  readonly events: Subscribable<PodNetworkEvents>;

  /**
   * Sets the pod CIDR the kubelet assigned to the node (UpdateRuntimeConfig), used as the CNI
   * `ipRanges` capability. Idempotent.
   * @throws InvalidArgumentError when `cidr` is not a CIDR
   */
  updatePodCidr(cidr: string, signal: AbortSignal): Promise<void>;
}
export const PodNetwork = Symbol('PodNetwork');
