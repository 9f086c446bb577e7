import { inject, injectable } from 'inversify';
import { cri } from '@crikit/api';
import {
  ContainerdClient, ContainerLogWriter, ContainerStore, FailedPreconditionError, matchesContainerFilter,
  type ContainerCreateRequest, type ContainerId, type ContainerManager, type ContainerRecord, type ContainerResourcesUpdate,
  type ContainerStatusOptions, type ContainerStatusResult, type ExecSyncResult,
} from '@crikit/core';
import { fromSpecAny, toSpecAny } from '@crikit/oci';
import { ContainerCreator } from './container-create.js';
import { ContainerExec } from './container-exec.js';
import { ContainerExits } from './container-exits.js';
import { ContainerInspection } from './container-inspection.js';
import { ContainerLifecycle } from './container-lifecycle.js';
import { containerResources } from './spec/container-resources.js';
import { HostFactsProvider } from './host-facts-provider.js';
import { CheckpointRestorer } from './checkpoint/checkpoint-restorer.js';
import { updateTaskResources } from './task-resources.js';

/** Containers on containerd: creation, lifecycle, exec, status and resource updates. */
@injectable()
export class ContainerdContainerManager implements ContainerManager {
  constructor(
    @inject(ContainerCreator) private readonly creator: ContainerCreator,
    @inject(ContainerLifecycle) private readonly lifecycle: ContainerLifecycle,
    @inject(ContainerExec) private readonly exec: ContainerExec,
    @inject(ContainerExits) private readonly exits: ContainerExits,
    @inject(ContainerStore) private readonly store: ContainerStore,
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(ContainerLogWriter) private readonly logs: ContainerLogWriter,
    @inject(HostFactsProvider) private readonly host: HostFactsProvider,
    @inject(ContainerInspection) private readonly inspection: ContainerInspection,
    @inject(CheckpointRestorer) private readonly restorer: CheckpointRestorer,
  ) {}

  /** An image that names a file (a checkpoint archive) or a checkpoint image is restored from (as containerd 2.x). */
  async create(request: ContainerCreateRequest, signal: AbortSignal): Promise<ContainerId> {
    if (await this.restorer.isCheckpoint(request.config.image?.image ?? '', signal)) return this.restorer.create(request, signal);
    return this.creator.create(request, signal);
  }

  /** A container created from a checkpoint is restored by criu instead of started afresh. */
  async start(id: ContainerId, signal: AbortSignal): Promise<void> {
    const taskOptions = await this.restorer.taskOptions(id, signal);
    await this.lifecycle.start(id, signal, { taskOptions });
    if (taskOptions) await this.restorer.restored(id);
  }

  stop(id: ContainerId, timeoutSeconds: number, signal: AbortSignal): Promise<void> {
    return this.lifecycle.stop(id, timeoutSeconds, signal);
  }

  remove(id: ContainerId, signal: AbortSignal): Promise<void> {
    return this.lifecycle.remove(id, signal);
  }

  /** From memory only, verbose too (see ContainerInspection): the kubelet calls it constantly. */
  async status(id: ContainerId, options: ContainerStatusOptions): Promise<ContainerStatusResult> {
    const record = this.store.get(id);
    if (!options.verbose) return { record, info: {} };
    return { record, info: { info: this.inspection.info(record) } };
  }

  list(filter?: cri.ContainerFilter): readonly ContainerRecord[] {
    return this.store.list(r => matchesContainerFilter(r, filter));
  }

  /** New limits go to the running task and into the stored spec, so a restart keeps them. */
  async updateResources(id: ContainerId, update: ContainerResourcesUpdate, signal: AbortSignal): Promise<void> {
    const record = this.store.get(id);
    if (record.status.state === 'exited') throw new FailedPreconditionError(`update resources of container ${record.metadata.name}: it has exited`);
    const facts = await this.host.facts();
    const resources = containerResources(update.linux, facts);
    const { container } = await this.containerd.containers.get({ id }, { signal });
    const spec = fromSpecAny(container!.spec!);
    spec.linux = { ...spec.linux, resources: { ...spec.linux?.resources, ...resources } };
    const specAny = toSpecAny(spec);
    await this.containerd.containers.update({ container: { id, spec: specAny }, updateMask: ['spec'] }, { signal });
    this.inspection.rememberSpec(id, Buffer.from(specAny.value).toString('utf8'));
    if (record.status.state === 'running') {
      await updateTaskResources(this.containerd, id, record.metadata.name, spec.linux.resources, signal);
    }
    const updated = this.store.update(id, s => ({ ...s, resources: cri.ContainerResources.fromPartial({ linux: update.linux }) }));
    await this.exits.persist(updated, signal);
  }

  execSync(id: ContainerId, cmd: readonly string[], timeoutSeconds: number, signal: AbortSignal): Promise<ExecSyncResult> {
    return this.exec.execSync(id, cmd, timeoutSeconds, signal);
  }

  async reopenLog(id: ContainerId, signal: AbortSignal): Promise<void> {
    const record = this.store.get(id);
    // CRI: the runtime may refuse to reopen the log of a container that is not running.
    if (record.status.state !== 'running') throw new FailedPreconditionError(`reopen log of container ${record.metadata.name}: it is not running`);
    await this.logs.reopen(id, signal);
  }
}
