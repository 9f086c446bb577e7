/**
 * A PodNetwork without CNI: each pod gets a veth pair, `eth0` inside its network namespace and
 * `<prefix><n>` on the host, and one static address from a small pool, routed point-to-point:
 *
 *   host:  <prefix><n>  <hostAddress>/32 peer <pod address>/32   (a route to the pod via the veth)
 *   pod:   eth0         <pod address>/32 peer <hostAddress>/32, default route via <hostAddress>; lo up
 *
 * The host reaches every pod on its address; pods reach the host (and, with forwarding, each other)
 * through it. Nothing is bridged, masqueraded or port-mapped. Leases live in memory only: a
 * restarted runtime does not know them (a real backend would persist them next to its state).
 */
import { execFile } from 'node:child_process';
import { EventEmitter } from 'eventemitter3';
import {
  FailedPreconditionError, ResourceExhaustedError, throwIfAborted, UnavailableError,
  type NetworkCondition, type PodNetwork, type PodNetworkEvents, type PodNetworkResult, type PodRef, type SandboxId,
} from '@crikit/core';

/** Where the addresses come from and how host interfaces are named. */
export interface VethPodNetworkOptions {
  /** The host end's address on every veth, the pods' default gateway, e.g. `10.88.97.1`. */
  readonly hostAddress: string;
  /** The pods' addresses, handed out in order and given back on detach. */
  readonly addresses: readonly string[];
  /** Host interface names are this plus the address's index in the pool; at most 12 characters. */
  readonly hostInterfacePrefix: string;
}

interface Lease {
  readonly address: string;
  readonly hostInterface: string;
  readonly result: PodNetworkResult;
}

/** Veth pairs and static addresses; see the file comment. attach and detach are idempotent. */
export class VethPodNetwork implements PodNetwork {
  readonly events = new EventEmitter<PodNetworkEvents>();
  private readonly leases = new Map<SandboxId, Lease>();
  /** Addresses being set up or held, so two concurrent attaches never pick the same one. */
  private readonly taken = new Set<string>();

  constructor(private readonly options: VethPodNetworkOptions) {
    if (options.hostInterfacePrefix.length > 12) throw new Error(`host interface prefix "${options.hostInterfacePrefix}" is longer than 12 characters`);
  }

  status(): NetworkCondition {
    return { ready: true, reason: '', message: `veth pairs, ${this.options.addresses.length - this.taken.size} free addresses` };
  }

  /** The address `pod` holds, if attached. */
  addressOf(pod: SandboxId): string | undefined {
    return this.leases.get(pod)?.address;
  }

  /**
   * @throws ResourceExhaustedError when every address is leased
   * @throws UnavailableError when an `ip` command fails (what was made is removed again)
   */
  async attach(pod: PodRef, signal: AbortSignal): Promise<PodNetworkResult> {
    const held = this.leases.get(pod.id);
    if (held) return held.result;
    throwIfAborted(signal, `attach pod "${pod.name}"`);
    const index = this.options.addresses.findIndex(a => !this.taken.has(a));
    if (index < 0) throw new ResourceExhaustedError(`attach pod "${pod.name}": no free address (pool of ${this.options.addresses.length})`);
    const address = this.options.addresses[index]!;
    const hostInterface = `${this.options.hostInterfacePrefix}${index}`;
    this.taken.add(address);
    try {
      const result = await this.plumb(pod, address, hostInterface, signal);
      this.leases.set(pod.id, { address, hostInterface, result });
      return result;
    } catch (err) {
      // Deleting the host end deletes the pair; then the address is free again.
      await ip(['link', 'del', hostInterface], AbortSignal.timeout(10_000)).catch(() => {});
      this.taken.delete(address);
      throw err;
    }
  }

  private async plumb(pod: PodRef, address: string, hostInterface: string, signal: AbortSignal): Promise<PodNetworkResult> {
    const { hostAddress } = this.options;
    // A leftover from a runtime that died mid-attach would make `link add` fail.
    await ip(['link', 'del', hostInterface], signal).catch(() => {});
    // `netns` takes a path as well as a name, so the pod end is made inside the pod's pinned netns.
    await ip(['link', 'add', hostInterface, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.netnsPath], signal);
    await ip(['addr', 'add', hostAddress, 'peer', `${address}/32`, 'dev', hostInterface], signal);
    await ip(['link', 'set', hostInterface, 'up'], signal);
    const inPod = (args: string[]) => run('nsenter', [`--net=${pod.netnsPath}`, 'ip', ...args], signal);
    await inPod(['link', 'set', 'lo', 'up']);
    await inPod(['addr', 'add', address, 'peer', `${hostAddress}/32`, 'dev', 'eth0']);
    await inPod(['link', 'set', 'eth0', 'up']);
    await inPod(['route', 'add', 'default', 'via', hostAddress, 'dev', 'eth0']);
    const podMac = macOf(await inPod(['-j', 'link', 'show', 'eth0']));
    const hostMac = macOf(await ip(['-j', 'link', 'show', hostInterface], signal));
    return {
      ips: [address],
      interfaces: [{ name: hostInterface, mac: hostMac, sandbox: '' }, { name: 'eth0', mac: podMac, sandbox: pod.netnsPath }],
      raw: { backend: 'veth', address, gateway: hostAddress, hostInterface },
    };
  }

  /** Deletes the pair (also when the netns is already gone) and frees the address. */
  async detach(pod: PodRef, signal: AbortSignal): Promise<void> {
    const lease = this.leases.get(pod.id);
    if (!lease) return;
    try {
      await ip(['link', 'del', lease.hostInterface], signal);
    } catch (err) {
      // Already gone (the netns was removed, which takes the pair with it): that is success.
      if (!/Cannot find device|does not exist/.test(String((err as Error).message))) throw err;
    }
    this.leases.delete(pod.id);
    this.taken.delete(lease.address);
  }

  /** @throws FailedPreconditionError when the pod holds no address or its host interface is gone */
  async check(pod: PodRef, signal: AbortSignal): Promise<void> {
    const lease = this.leases.get(pod.id);
    if (!lease) throw new FailedPreconditionError(`check pod "${pod.name}": not attached`);
    await ip(['link', 'show', lease.hostInterface], signal).catch(err => {
      throw new FailedPreconditionError(`check pod "${pod.name}": host interface ${lease.hostInterface} is gone`, { cause: err });
    });
  }

  /** Pod CIDRs are CNI's business; this backend has its own pool. */
  async updatePodCidr(): Promise<void> {}
}

function ip(args: string[], signal: AbortSignal): Promise<string> {
  return run('ip', args, signal);
}

/** Runs a command; its stderr becomes the UnavailableError's message. */
function run(command: string, args: string[], signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { signal, timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new UnavailableError(`${command} ${args.join(' ')}: ${String(stderr).trim() || err.message}`, { cause: err }));
      else resolve(String(stdout));
    });
  });
}

function macOf(json: string): string {
  const [link] = JSON.parse(json) as { address?: string }[];
  return link?.address ?? '';
}
