import { cri } from '@crikit/api';
import type {
  ContainerCreateRequest, ContainerManager, ContainerResourcesUpdate, ContainerStatusOptions, ContainerStatusResult, ExecSyncResult,
} from '../contracts/container-manager.js';
import { FailedPreconditionError, InvalidArgumentError, throwIfAborted } from '../errors.js';
import type { RuntimeEventBus } from '../events/runtime-events.js';
import type { ContainerId, ImageId } from '../ids.js';
import { containerName, containerRecordOf, initialContainerStatus, type ContainerRecord } from '../model/container-record.js';
import { matchesContainerFilter } from '../model/cri-filters.js';
import { ContainerStore } from '../stores/container-store.js';
import { FakeRecorder, type MethodsOf } from './fake-recorder.js';
import { digestOf, randomId } from './record-builders.js';

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

/**
 * A ContainerManager over a ContainerStore, with no containerd: containers move through
 * created → running → exited as the real ones do, and the state checks of the CRI are enforced.
 * `stopExitCode` and `execResult` say how stops and ExecSync end.
 */
export class FakeContainerManager extends FakeRecorder<MethodsOf<ContainerManager>> implements ContainerManager {
  /** The exit code `stop` records (0 gives reason Completed, anything else Error). */
  stopExitCode = 0;
  /** What `execSync` answers. */
  execResult: ExecSyncResult = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 0 };
  private nextPid = 20_000;

  /** @param bus when given, lifecycle events are announced on it */
  constructor(readonly store: ContainerStore = new ContainerStore(), private readonly bus?: RuntimeEventBus) {
    super();
  }

  async create(request: ContainerCreateRequest, signal: AbortSignal): Promise<ContainerId> {
    this.record('create', request);
    throwIfAborted(signal, 'create container');
    const { config, sandboxId } = request;
    if (!config.metadata) throw new InvalidArgumentError('create container: config.metadata is required');
    const pod = request.sandboxConfig?.metadata ?? cri.PodSandboxMetadata.fromPartial({ name: 'pod', namespace: 'default', uid: 'uid' });
    const id = randomId() as ContainerId;
    const name = containerName(config.metadata, pod);
    this.store.reserveName(name, id);
    const image = config.image?.image ?? '';
    const record = containerRecordOf(
      {
        version: 1, id, name, sandboxId, config, imageRef: image, imageId: digestOf(`config of ${image}`) as ImageId,
        logPath: config.logPath === '' ? '' : `${request.sandboxConfig?.logDirectory ?? '/var/log/pods'}/${config.logPath}`,
        stopSignal: 'SIGTERM', createdAt: nowNs(),
      },
      { ...initialContainerStatus, ...(config.linux?.resources ? { resources: cri.ContainerResources.fromPartial({ linux: config.linux.resources }) } : {}) },
    );
    this.store.add(record);
    this.bus?.emit('container:created', record);
    return id;
  }

  async start(id: ContainerId, signal: AbortSignal): Promise<void> {
    this.record('start', id);
    throwIfAborted(signal, `start container "${id}"`);
    const current = this.store.get(id);
    if (current.status.state !== 'created') throw new FailedPreconditionError(`start container "${id}": container is ${current.status.state}, not created`);
    const started = this.store.update(id, s => ({ ...s, state: 'running', pid: this.nextPid++, startedAt: nowNs() }));
    this.bus?.emit('container:started', started);
  }

  async stop(id: ContainerId, timeoutSeconds: number, signal: AbortSignal): Promise<void> {
    this.record('stop', id, timeoutSeconds);
    throwIfAborted(signal, `stop container "${id}"`);
    // CRI: StopContainer is idempotent; only a running (or unknown) container changes.
    const found = this.store.find(id);
    if (!found || (found.status.state !== 'running' && found.status.state !== 'unknown')) return;
    const exitCode = this.stopExitCode;
    const exited = this.store.update(id, s => ({
      ...s, state: 'exited', pid: 0, finishedAt: nowNs(), exitCode, reason: exitCode === 0 ? 'Completed' : 'Error',
    }));
    this.bus?.emit('container:exited', exited, exitCode);
  }

  async remove(id: ContainerId, signal: AbortSignal): Promise<void> {
    this.record('remove', id);
    throwIfAborted(signal, `remove container "${id}"`);
    // CRI: RemoveContainer is idempotent; NotFound is success.
    const found = this.store.find(id);
    if (!found) return;
    this.store.delete(id);
    this.bus?.emit('container:removed', found);
  }

  async status(id: ContainerId, options: ContainerStatusOptions, signal: AbortSignal): Promise<ContainerStatusResult> {
    this.record('status', id, options);
    throwIfAborted(signal, `container status "${id}"`);
    const record = this.store.get(id);
    return { record, info: options.verbose ? { info: JSON.stringify({ pid: record.status.pid, sandboxID: record.metadata.sandboxId }) } : {} };
  }

  list(filter?: cri.ContainerFilter): readonly ContainerRecord[] {
    this.record('list', filter);
    return this.store.list(r => matchesContainerFilter(r, filter));
  }

  async updateResources(id: ContainerId, update: ContainerResourcesUpdate, signal: AbortSignal): Promise<void> {
    this.record('updateResources', id, update);
    throwIfAborted(signal, `update container resources "${id}"`);
    const current = this.store.get(id);
    if (current.status.state === 'exited') throw new FailedPreconditionError(`update container resources "${id}": container has exited`);
    this.store.update(id, s => ({ ...s, resources: cri.ContainerResources.fromPartial({ linux: update.linux, windows: update.windows }) }));
  }

  async execSync(id: ContainerId, cmd: readonly string[], timeoutSeconds: number, signal: AbortSignal): Promise<ExecSyncResult> {
    this.record('execSync', id, cmd, timeoutSeconds);
    throwIfAborted(signal, `exec in container "${id}"`);
    this.requireRunning(id, 'exec in container');
    return this.execResult;
  }

  async reopenLog(id: ContainerId, signal: AbortSignal): Promise<void> {
    this.record('reopenLog', id);
    throwIfAborted(signal, `reopen log of container "${id}"`);
    this.requireRunning(id, 'reopen log of container');
  }

  private requireRunning(id: ContainerId, doing: string): void {
    const state = this.store.get(id).status.state;
    if (state !== 'running') throw new FailedPreconditionError(`${doing} "${id}": container is ${state}, not running`);
  }
}
