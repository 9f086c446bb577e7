import { inject, injectable } from 'inversify';
import type { cri } from '@crikit/api';
import {
  ContainerdClient, matchesSandboxFilter, SandboxStore, taskInfo,
  type SandboxId, type SandboxManager, type SandboxRecord, type SandboxStatusOptions, type SandboxStatusResult,
} from '@crikit/core';
import { SandboxRunner } from './sandbox-run.js';
import { SandboxTeardown } from './sandbox-teardown.js';

/** Pod sandboxes on containerd: a pause container per pod, its netns, files and network. */
@injectable()
export class ContainerdSandboxManager implements SandboxManager {
  constructor(
    @inject(SandboxRunner) private readonly runner: SandboxRunner,
    @inject(SandboxTeardown) private readonly teardown: SandboxTeardown,
    @inject(SandboxStore) private readonly store: SandboxStore,
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
  ) {}

  run(request: cri.RunPodSandboxRequest, signal: AbortSignal): Promise<SandboxId> {
    return this.runner.run(request, signal);
  }

  stop(id: SandboxId, signal: AbortSignal): Promise<void> {
    return this.teardown.stop(id, signal);
  }

  remove(id: SandboxId, signal: AbortSignal): Promise<void> {
    return this.teardown.remove(id, signal);
  }

  async status(id: SandboxId, options: SandboxStatusOptions, signal: AbortSignal): Promise<SandboxStatusResult> {
    const record = this.store.get(id);
    if (!options.verbose) return { record, info: {} };
    // containerd's CRI puts one JSON document under `info`; crictl inspectp prints it.
    const container = await this.containerd.containers.get({ id }, { signal }).then(r => r.container).catch(() => undefined);
    // containerd's CRI: the task's status as a word (`running`, `stopped`…), '' without a task.
    const task = await taskInfo(this.containerd, id, signal);
    const spec = container?.spec ? JSON.parse(Buffer.from(container.spec.value).toString('utf8')) as unknown : undefined;
    const info = {
      pid: task.pid,
      processStatus: task.processStatus,
      netNamespacePath: record.metadata.netnsPath ?? '',
      runtimeHandler: record.metadata.runtimeHandler,
      runtimeType: container?.runtime?.name ?? '',
      config: record.metadata.config,
      runtimeSpec: spec,
    };
    return { record, info: { info: JSON.stringify(info, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) } };
  }

  list(filter?: cri.PodSandboxFilter): readonly SandboxRecord[] {
    return this.store.list(r => matchesSandboxFilter(r, filter));
  }
}
