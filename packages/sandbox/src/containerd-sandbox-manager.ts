import { inject, injectable } from 'inversify';
import type { cri } from '@crikit/api';
import {
  matchesSandboxFilter, SandboxStore,
  type SandboxId, type SandboxManager, type SandboxRecord, type SandboxStatusOptions, type SandboxStatusResult,
} from '@crikit/core';
import { SandboxInspection } from './sandbox-inspection.js';
import { SandboxRunner } from './sandbox-run.js';
import { SandboxTeardown } from './sandbox-teardown.js';

/** Pod sandboxes on containerd: a pause container per pod, its netns, files and network. */
@injectable()
export class ContainerdSandboxManager implements SandboxManager {
  constructor(
    @inject(SandboxRunner) private readonly runner: SandboxRunner,
    @inject(SandboxTeardown) private readonly teardown: SandboxTeardown,
    @inject(SandboxStore) private readonly store: SandboxStore,
    @inject(SandboxInspection) private readonly inspection: SandboxInspection,
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

  /** From memory only, verbose too (see SandboxInspection): the kubelet calls it constantly. */
  async status(id: SandboxId, options: SandboxStatusOptions): Promise<SandboxStatusResult> {
    const record = this.store.get(id);
    if (!options.verbose) return { record, info: {} };
    // containerd's CRI puts one JSON document under `info`; crictl inspectp prints it.
    return { record, info: { info: this.inspection.info(record) } };
  }

  list(filter?: cri.PodSandboxFilter): readonly SandboxRecord[] {
    return this.store.list(r => matchesSandboxFilter(r, filter));
  }
}
