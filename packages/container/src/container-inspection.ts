import { inject, injectable } from 'inversify';
import {
  ContainerStore, RuntimeEventBus, StartOrder, verboseInfoJson,
  type ContainerRecord, type ContainerState, type ProcessStatusWord, type Startable,
} from '@crikit/core';

/** What verbose ContainerStatus shows of a container's containerd side; known at create and on recovery. */
export interface ContainerdContainerFacts {
  /** containerd's runtime name (`io.containerd.runc.v2`). */
  readonly runtimeType: string;
  readonly snapshotter: string;
  readonly snapshotKey: string;
  /** The OCI spec's JSON text as containerd holds it (replaced by UpdateContainerResources); undefined if unreadable. */
  readonly specJson: string | undefined;
}

/**
 * The task's status word as containerd's client would read it, from the record alone: the task exists
 * only while the container runs (StartContainer creates it, the exit recorder deletes it).
 */
const processStatus: Readonly<Record<ContainerState, ProcessStatusWord | ''>> = {
  created: '', running: 'running', exited: '', unknown: 'unknown',
};

/**
 * Answers verbose ContainerStatus from memory: the containerd facts are kept from create (or recovery)
 * until the container is removed, the task's pid and state come from the record. No containerd call.
 */
@injectable()
export class ContainerInspection implements Startable {
  readonly startName = 'container inspection';
  // Before recovery, which fills it.
  readonly startOrder = StartOrder.events + 1;
  private readonly facts = new Map<string, ContainerdContainerFacts>();

  constructor(
    @inject(ContainerStore) private readonly store: ContainerStore,
    @inject(RuntimeEventBus) private readonly bus: RuntimeEventBus,
  ) {}

  private readonly onRemoved = (record: ContainerRecord): void => {
    this.facts.delete(record.metadata.id);
  };

  async start(): Promise<void> {
    this.bus.events.on('container:removed', this.onRemoved);
  }

  async stop(): Promise<void> {
    this.bus.events.off('container:removed', this.onRemoved);
  }

  /** Keeps what containerd holds for container `id` (at create and on recovery). */
  remember(id: string, facts: ContainerdContainerFacts): void {
    this.facts.set(id, facts);
  }

  /** The OCI spec's JSON text of container `id` as containerd holds it; undefined if not known. */
  specJson(id: string): string | undefined {
    return this.facts.get(id)?.specJson;
  }

  /** Keeps the spec UpdateContainerResources wrote. */
  rememberSpec(id: string, specJson: string): void {
    const facts = this.facts.get(id);
    if (facts) this.facts.set(id, { ...facts, specJson });
  }

  /** The verbose `info` JSON of a container, as containerd's CRI builds it (plus the task's status word). */
  info(record: ContainerRecord): string {
    const { id } = record.metadata;
    const facts = this.facts.get(id);
    const running = record.status.state === 'running';
    return verboseInfoJson({
      sandboxID: record.metadata.sandboxId,
      pid: running ? record.status.pid : 0,
      // Not in containerd's container info; shown as its sandbox info shows it: a word, '' without a task.
      processStatus: processStatus[record.status.state],
      removing: this.store.operation(id) === 'removing',
      snapshotKey: facts?.snapshotKey ?? '',
      snapshotter: facts?.snapshotter ?? '',
      runtimeType: facts?.runtimeType ?? '',
      config: record.metadata.config,
    }, facts?.specJson);
  }
}
