import { cri } from '@crikit/api';
import type { CriConnection } from './cri-connection.js';

/** One event as a line: time, event type, container id, pod name/namespace and the container's state. */
export function formatEvent(e: cri.ContainerEventResponse): string {
  const time = new Date(Number(e.createdAt / 1_000_000n)).toISOString();
  const type = cri.containerEventTypeToJSON(e.containerEventType).replace(/^CONTAINER_|_EVENT$/g, '').toLowerCase();
  const pod = e.podSandboxStatus?.metadata;
  const status = e.containersStatuses.find(s => s.id === e.containerId);
  const parts = [time, type.padEnd(7), e.containerId.slice(0, 13)];
  if (status?.metadata !== undefined) parts.push(`container=${status.metadata.name}`);
  if (pod !== undefined) parts.push(`pod=${pod.namespace}/${pod.name}`);
  if (status !== undefined) parts.push(`state=${cri.containerStateToJSON(status.state).replace(/^CONTAINER_/, '').toLowerCase()}`);
  return parts.join('  ');
}

/**
 * Follows GetContainerEvents, writing one line per event until the server ends the stream or `signal` fires.
 * Resolves when the stream ends; rejects with the gRPC error if it fails.
 */
export function followEvents(conn: CriConnection, write: (line: string) => void, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const call = conn.runtime.getContainerEvents({});
    const onAbort = (): void => { call.cancel(); };
    signal.addEventListener('abort', onAbort, { once: true });
    call.on('data', (e: cri.ContainerEventResponse) => write(formatEvent(e)));
    call.on('error', (err: Error & { code?: number }) => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) resolve(); else reject(err);
    });
    call.on('end', () => { signal.removeEventListener('abort', onAbort); resolve(); });
  });
}
