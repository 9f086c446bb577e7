import type { cri } from '@crikit/api';
import type { SandboxManager, SandboxStatusOptions, SandboxStatusResult } from '../contracts/sandbox-manager.js';
import { InvalidArgumentError, throwIfAborted } from '../errors.js';
import type { RuntimeEventBus } from '../events/runtime-events.js';
import type { SandboxId } from '../ids.js';
import { matchesSandboxFilter } from '../model/cri-filters.js';
import { initialSandboxStatus, sandboxName, sandboxRecordOf, type SandboxRecord } from '../model/sandbox-record.js';
import { SandboxStore } from '../stores/sandbox-store.js';
import { FakeRecorder, type MethodsOf } from './fake-recorder.js';
import { randomId } from './record-builders.js';

/**
 * A SandboxManager over a SandboxStore, with no containerd and no network: `run` stores a ready
 * sandbox with the next IP from 10.88.0.0/16, `stop` makes it notready, `remove` deletes it.
 * Names are reserved as the real manager does, so a duplicate pod fails with AlreadyExistsError.
 */
export class FakeSandboxManager extends FakeRecorder<MethodsOf<SandboxManager>> implements SandboxManager {
  private nextHost = 2;

  /** @param bus when given, lifecycle events are announced on it */
  constructor(readonly store: SandboxStore = new SandboxStore(), private readonly bus?: RuntimeEventBus) {
    super();
  }

  async run(request: cri.RunPodSandboxRequest, signal: AbortSignal): Promise<SandboxId> {
    this.record('run', request);
    throwIfAborted(signal, 'run pod sandbox');
    const config = request.config;
    if (!config?.metadata) throw new InvalidArgumentError('run pod sandbox: config.metadata is required');
    const id = randomId() as SandboxId;
    const name = sandboxName(config.metadata);
    this.store.reserveName(name, id);
    const host = this.nextHost++;
    const record = sandboxRecordOf(
      {
        version: 1, id, name, config, runtimeHandler: request.runtimeHandler,
        netnsPath: `/var/run/netns/cni-${id.slice(0, 12)}`, createdAt: BigInt(Date.now()) * 1_000_000n,
      },
      { ...initialSandboxStatus, state: 'ready', pid: 10_000 + host, ip: `10.88.${host >> 8 & 255}.${host & 255}` },
    );
    this.store.add(record);
    this.bus?.emit('sandbox:created', record);
    this.bus?.emit('sandbox:started', record);
    return id;
  }

  async stop(id: SandboxId, signal: AbortSignal): Promise<void> {
    this.record('stop', id);
    throwIfAborted(signal, `stop sandbox "${id}"`);
    // CRI: StopPodSandbox is idempotent; an unknown or stopped sandbox is success.
    const found = this.store.find(id);
    if (!found || found.status.state === 'notready') return;
    const stopped = this.store.update(id, s => ({ ...s, state: 'notready', pid: 0, exitStatus: 0, exitedAt: BigInt(Date.now()) * 1_000_000n }));
    this.bus?.emit('sandbox:stopped', stopped);
  }

  async remove(id: SandboxId, signal: AbortSignal): Promise<void> {
    this.record('remove', id);
    throwIfAborted(signal, `remove sandbox "${id}"`);
    // CRI: RemovePodSandbox is idempotent; NotFound is success.
    const found = this.store.find(id);
    if (!found) return;
    this.store.delete(id);
    this.bus?.emit('sandbox:removed', found);
  }

  async status(id: SandboxId, options: SandboxStatusOptions, signal: AbortSignal): Promise<SandboxStatusResult> {
    this.record('status', id, options);
    throwIfAborted(signal, `sandbox status "${id}"`);
    const record = this.store.get(id);
    return { record, info: options.verbose ? { info: JSON.stringify({ pid: record.status.pid, netns: record.metadata.netnsPath }) } : {} };
  }

  list(filter?: cri.PodSandboxFilter): readonly SandboxRecord[] {
    this.record('list', filter);
    return this.store.list(r => matchesSandboxFilter(r, filter));
  }
}
