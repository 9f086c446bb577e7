import type { NetworkCondition, PodNetwork, PodNetworkEvents, PodNetworkResult, PodRef } from '../contracts/pod-network.js';
import { FailedPreconditionError, InvalidArgumentError, throwIfAborted } from '../errors.js';
import type { SandboxId } from '../ids.js';
import { GuardedEmitter } from '../util/guarded-emitter.js';
import type { Subscribable } from '../util/subscribable.js';
import { FakeRecorder, type MethodsOf } from './fake-recorder.js';

/**
 * A PodNetwork that hands out IPs from 10.88.0.0/16 and remembers which pods are attached.
 * `setStatus` changes the condition and announces it, like a CNI config appearing or breaking.
 */
export class FakePodNetwork extends FakeRecorder<MethodsOf<Required<PodNetwork>>> implements Required<PodNetwork> {
  /** Attached pods and what `attach` returned to them. */
  readonly attached = new Map<SandboxId, PodNetworkResult>();
  /** The last CIDR `updatePodCidr` set ('' before). */
  podCidr = '';
  /** Errors thrown by event listeners (the fake has no logger). */
  readonly listenerErrors: unknown[] = [];
  private condition: NetworkCondition = { ready: true, reason: '', message: '' };
  private nextHost = 2;
  private readonly emitter = new GuardedEmitter<PodNetworkEvents>(err => this.listenerErrors.push(err));
  readonly events: Subscribable<PodNetworkEvents> = this.emitter;

  async attach(pod: PodRef, signal: AbortSignal): Promise<PodNetworkResult> {
    this.record('attach', pod);
    throwIfAborted(signal, `attach pod "${pod.id}"`);
    // Idempotent, as the contract requires: a second attach returns the first result.
    const existing = this.attached.get(pod.id);
    if (existing) return existing;
    const host = this.nextHost++;
    const result: PodNetworkResult = {
      ips: [`10.88.${host >> 8 & 255}.${host & 255}`],
      interfaces: [{ name: 'eth0', mac: `02:42:0a:58:${hex(host >> 8)}:${hex(host)}`, sandbox: pod.netnsPath }],
    };
    this.attached.set(pod.id, result);
    return result;
  }

  async detach(pod: PodRef, signal: AbortSignal): Promise<void> {
    this.record('detach', pod);
    throwIfAborted(signal, `detach pod "${pod.id}"`);
    this.attached.delete(pod.id);
  }

  async check(pod: PodRef, signal: AbortSignal): Promise<void> {
    this.record('check', pod);
    throwIfAborted(signal, `check pod "${pod.id}"`);
    if (!this.attached.has(pod.id)) throw new FailedPreconditionError(`check pod "${pod.id}": pod is not attached`);
  }

  async collectGarbage(keep: readonly SandboxId[], signal: AbortSignal): Promise<void> {
    this.record('collectGarbage', [...keep]);
    throwIfAborted(signal, 'collect pod network garbage');
    for (const id of [...this.attached.keys()]) if (!keep.includes(id)) this.attached.delete(id);
  }

  status(): NetworkCondition {
    this.record('status');
    return this.condition;
  }

  async updatePodCidr(cidr: string, signal: AbortSignal): Promise<void> {
    this.record('updatePodCidr', cidr);
    throwIfAborted(signal, 'update pod cidr');
    if (!/^[0-9a-f.:]+\/\d{1,3}$/i.test(cidr)) throw new InvalidArgumentError(`update pod cidr: "${cidr}" is not a CIDR`);
    this.podCidr = cidr;
  }

  /** Sets the condition `status` reports and emits `network:status-changed` (not recorded as a call). */
  setStatus(condition: NetworkCondition): void {
    this.condition = condition;
    this.emitter.emit('network:status-changed', condition);
  }
}

function hex(n: number): string {
  return (n & 255).toString(16).padStart(2, '0');
}
