import { taskEvents, unpackAny, type types } from '@crikit/api';
import { timestampNs } from '../util/time.js';

/** A task or exec process exited (containerd `/tasks/exit`). */
export interface TaskExit {
  readonly containerId: string;
  /** The exec id, or the container id for the task's init process. */
  readonly id: string;
  readonly pid: number;
  readonly exitStatus: number;
  /** ns since the epoch. */
  readonly exitedAt: bigint;
}

/** What the event monitor reports, after decoding containerd's envelopes. */
export interface TaskEvents {
  'task:exited': [exit: TaskExit];
  /** The kernel's OOM killer hit a task's cgroup (containerd `/tasks/oom`). */
  'task:oom-killed': [containerId: string];
  /**
   * The event stream is (again) delivering: events from now on arrive, but exits while it was down
   * (containerd restarted, the stream broke) may be lost. Listeners reconcile against containerd's tasks.
   */
  'stream:subscribed': [];
}

/** containerd's topics for the events the monitor decodes, and the marker it publishes to itself. */
export const taskEventTopics = { exit: '/tasks/exit', oom: '/tasks/oom', marker: '/crikit/events/subscribed' } as const;

/** Decodes one containerd envelope into a task event, or undefined for other topics. */
export function decodeTaskEvent(envelope: types.Envelope): { kind: 'exit'; exit: TaskExit } | { kind: 'oom'; containerId: string } | undefined {
  if (envelope.topic === taskEventTopics.exit) {
    const e = unpackAny(envelope.event, 'containerd.events.TaskExit', taskEvents.TaskExit);
    if (!e) return undefined;
    return { kind: 'exit', exit: { containerId: e.containerId, id: e.id, pid: e.pid, exitStatus: e.exitStatus, exitedAt: timestampNs(e.exitedAt) } };
  }
  if (envelope.topic === taskEventTopics.oom) {
    const e = unpackAny(envelope.event, 'containerd.events.TaskOOM', taskEvents.TaskOOM);
    return e ? { kind: 'oom', containerId: e.containerId } : undefined;
  }
  return undefined;
}
