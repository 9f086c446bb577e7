import { inject, injectable } from 'inversify';
import {
  RuntimeEventBus, StartOrder, verboseInfoJson,
  type ProcessStatusWord, type SandboxRecord, type SandboxState, type Startable,
} from '@crikit/core';

/** What verbose PodSandboxStatus shows of a sandbox's containerd side; known at RunPodSandbox and on recovery. */
export interface ContainerdSandboxFacts {
  /** containerd's runtime name (`io.containerd.runc.v2`). */
  readonly runtimeType: string;
  /** The pause container's OCI spec as JSON text, as containerd holds it; undefined if unreadable. */
  readonly specJson: string | undefined;
}

/**
 * The pause task's status word as containerd's client would read it, from the record alone: the task
 * runs while the sandbox is ready; StopPodSandbox and the exit handler delete it.
 */
const processStatus: Readonly<Record<SandboxState, ProcessStatusWord | ''>> = {
  ready: 'running', notready: '', unknown: 'unknown',
};

/**
 * Answers verbose PodSandboxStatus from memory: the containerd facts are kept from RunPodSandbox (or
 * recovery) until the sandbox is removed, the pause task's pid and state come from the record.
 */
@injectable()
export class SandboxInspection implements Startable {
  readonly startName = 'sandbox inspection';
  // Before recovery, which fills it.
  readonly startOrder = StartOrder.events + 1;
  private readonly facts = new Map<string, ContainerdSandboxFacts>();

  constructor(@inject(RuntimeEventBus) private readonly bus: RuntimeEventBus) {}

  private readonly onRemoved = (record: SandboxRecord): void => {
    this.facts.delete(record.metadata.id);
  };

  async start(): Promise<void> {
    this.bus.events.on('sandbox:removed', this.onRemoved);
  }

  async stop(): Promise<void> {
    this.bus.events.off('sandbox:removed', this.onRemoved);
  }

  /** Keeps what containerd holds for sandbox `id` (at RunPodSandbox and on recovery). */
  remember(id: string, facts: ContainerdSandboxFacts): void {
    this.facts.set(id, facts);
  }

  /** The verbose `info` JSON of a sandbox, as containerd's CRI builds it; crictl inspectp prints it. */
  info(record: SandboxRecord): string {
    const facts = this.facts.get(record.metadata.id);
    const ready = record.status.state === 'ready';
    return verboseInfoJson({
      pid: ready ? record.status.pid : 0,
      // containerd's CRI: the task's status as a word (`running`, `stopped`…), '' without a task.
      processStatus: processStatus[record.status.state],
      netNamespacePath: record.metadata.netnsPath ?? '',
      runtimeHandler: record.metadata.runtimeHandler,
      runtimeType: facts?.runtimeType ?? '',
      config: record.metadata.config,
    }, facts?.specJson);
  }
}
