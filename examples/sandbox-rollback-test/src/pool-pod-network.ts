/**
 * The backend under test: a PodNetwork that gives each pod one address from a fixed pool. It stands
 * for "your own backend"; a real one would also plumb interfaces into `pod.netnsPath` (see the
 * static-pod-network example).
 */
import { EventEmitter } from 'eventemitter3';
import {
  FailedPreconditionError, ResourceExhaustedError, throwIfAborted,
  type NetworkCondition, type PodNetwork, type PodNetworkEvents, type PodNetworkResult, type PodRef, type SandboxId,
} from '@crikit/core';

/** Hands out one address per pod; `detach` gives it back. Both are idempotent, as the contract asks. */
export class PoolPodNetwork implements PodNetwork {
  readonly events = new EventEmitter<PodNetworkEvents>();
  /** Which pod holds which address. */
  readonly leases = new Map<SandboxId, string>();
  /** Every call, in order, as `attach <id>` / `detach <id>`, for tests to read. */
  readonly calls: string[] = [];
  private readonly free: string[];

  constructor(pool: readonly string[]) {
    this.free = [...pool];
  }

  /** Addresses not leased to any pod. */
  get available(): readonly string[] {
    return this.free;
  }

  status(): NetworkCondition {
    return { ready: true, reason: '', message: `address pool, ${this.free.length} free` };
  }

  /** @throws ResourceExhaustedError when every address is leased */
  async attach(pod: PodRef, signal: AbortSignal): Promise<PodNetworkResult> {
    this.calls.push(`attach ${pod.id}`);
    throwIfAborted(signal, `attach pod "${pod.id}"`);
    const held = this.leases.get(pod.id) ?? this.free.shift();
    if (held === undefined) throw new ResourceExhaustedError(`attach pod "${pod.name}": no free address in the pool`);
    this.leases.set(pod.id, held);
    return { ips: [held], interfaces: [{ name: 'eth0', mac: '', sandbox: pod.netnsPath }] };
  }

  async detach(pod: PodRef): Promise<void> {
    this.calls.push(`detach ${pod.id}`);
    const held = this.leases.get(pod.id);
    if (held === undefined) return;
    this.leases.delete(pod.id);
    this.free.push(held);
  }

  /** @throws FailedPreconditionError when the pod holds no address */
  async check(pod: PodRef): Promise<void> {
    if (!this.leases.has(pod.id)) throw new FailedPreconditionError(`check pod "${pod.name}": no address leased`);
  }

  async updatePodCidr(): Promise<void> {}
}
