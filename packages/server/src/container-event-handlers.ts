import { inject, injectable } from 'inversify';
import { cri, type PartialMessage } from '@crikit/api';
import { nowNs, ContainerStore, RuntimeEventBus, SandboxStore, type ContainerRecord } from '@crikit/core';
import type { ServiceHandlers } from './grpc/define-service.js';
import type { CriHandlerGroup } from './cri-handler-group.js';
import { toCriContainerStatus } from './container-views.js';
import { toCriStatus } from './sandbox-handlers.js';

/** Events a slow GetContainerEvents client may fall behind by before the oldest are dropped. */
const maxQueued = 1_000;

/**
 * GetContainerEvents: container lifecycle events with the pod's sandbox status and container
 * statuses, as the kubelet's evented PLEG consumes them. One subscription per stream, until the
 * client goes away.
 */
@injectable()
export class ContainerEventHandlers implements CriHandlerGroup {
  constructor(
    @inject(RuntimeEventBus) private readonly bus: RuntimeEventBus,
    @inject(SandboxStore) private readonly sandboxes: SandboxStore,
    @inject(ContainerStore) private readonly containers: ContainerStore,
  ) {}

  runtime(): ServiceHandlers<typeof cri.RuntimeServiceDefinition> {
    return { getContainerEvents: (_req, signal) => this.stream(signal) };
  }

  private async *stream(signal: AbortSignal): AsyncIterable<PartialMessage<cri.ContainerEventResponse>> {
    const queue: PartialMessage<cri.ContainerEventResponse>[] = [];
    let wake: (() => void) | undefined;
    const push = (type: cri.ContainerEventType) => (record: ContainerRecord): void => {
      queue.push(this.event(type, record));
      if (queue.length > maxQueued) queue.shift();
      wake?.();
    };
    const created = push(cri.ContainerEventType.CONTAINER_CREATED_EVENT);
    const started = push(cri.ContainerEventType.CONTAINER_STARTED_EVENT);
    const exited = push(cri.ContainerEventType.CONTAINER_STOPPED_EVENT);
    const removed = push(cri.ContainerEventType.CONTAINER_DELETED_EVENT);
    const events = this.bus.events;
    events.on('container:created', created).on('container:started', started).on('container:exited', exited).on('container:removed', removed);
    try {
      while (!signal.aborted) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>(resolve => {
          wake = resolve;
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
        wake = undefined;
      }
    } finally {
      events.off('container:created', created).off('container:started', started).off('container:exited', exited).off('container:removed', removed);
    }
  }

  private event(type: cri.ContainerEventType, record: ContainerRecord): PartialMessage<cri.ContainerEventResponse> {
    const sandboxId = record.metadata.sandboxId;
    const sandbox = this.sandboxes.find(sandboxId);
    const statuses = this.containers.list(c => c.metadata.sandboxId === sandboxId).map(toCriContainerStatus);
    // A removed container is no longer in the store: its last snapshot still describes it.
    if (type === cri.ContainerEventType.CONTAINER_DELETED_EVENT) statuses.push(toCriContainerStatus(record));
    return {
      containerId: record.metadata.id, containerEventType: type, createdAt: nowNs(),
      podSandboxStatus: sandbox ? toCriStatus(sandbox) : undefined,
      containersStatuses: statuses,
    };
  }
}
