import { inject, injectable } from 'inversify';
import { cri, type PartialMessage } from '@crikit/api';
import { nowNs, ContainerStore, ResourceExhaustedError, RuntimeEventBus, SandboxStore, type ContainerRecord } from '@crikit/core';
import type { ServiceHandlers } from './grpc/define-service.js';
import type { CriHandlerGroup } from './cri-handler-group.js';
import { toCriContainerStatus } from './container-views.js';
import { toCriStatus } from './sandbox-handlers.js';
import { EventSubscriber } from './event-subscriber.js';

type ContainerEvent = PartialMessage<cri.ContainerEventResponse>;

/**
 * Events a GetContainerEvents client may fall behind by. One more and the client is dropped with
 * RESOURCE_EXHAUSTED: the kubelet's evented PLEG then relists and subscribes again, which is
 * better than a stream that silently lost events.
 */
export const maxQueuedContainerEvents = 1_000;

/**
 * GetContainerEvents: container lifecycle events with the pod's sandbox status and container
 * statuses, as the kubelet's evented PLEG consumes them. One subscription per stream, removed when
 * the client goes away, falls too far behind, or crikit stops.
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

  private async *stream(signal: AbortSignal): AsyncIterable<ContainerEvent> {
    const sub = new EventSubscriber<ContainerEvent>(maxQueuedContainerEvents,
      () => new ResourceExhaustedError(`container events subscriber fell behind by more than ${maxQueuedContainerEvents} events; subscribe again`));
    const on = (type: cri.ContainerEventType) => (record: ContainerRecord): void => sub.push(this.event(type, record));
    const created = on(cri.ContainerEventType.CONTAINER_CREATED_EVENT);
    const started = on(cri.ContainerEventType.CONTAINER_STARTED_EVENT);
    const exited = on(cri.ContainerEventType.CONTAINER_STOPPED_EVENT);
    const removed = on(cri.ContainerEventType.CONTAINER_DELETED_EVENT);
    const events = this.bus.events;
    events.on('container:created', created).on('container:started', started).on('container:exited', exited).on('container:removed', removed);
    // Listeners leave the bus the moment the subscriber closes (overflow, cancel, shutdown), not
    // when the generator is next resumed: a client that stopped reading may never resume it.
    sub.onClose(() => {
      events.off('container:created', created).off('container:started', started).off('container:exited', exited).off('container:removed', removed);
    });
    yield* sub.drain(signal);
  }

  private event(type: cri.ContainerEventType, record: ContainerRecord): ContainerEvent {
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
