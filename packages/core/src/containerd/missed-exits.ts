import { taskTypes } from '@crikit/api';
import type { ContainerdClient } from '../contracts/containerd-client.js';
import type { TaskExit } from '../events/task-events.js';
import { nowNs, timestampNs } from '../util/time.js';
import { getKnownTask, isLive, isUnknown } from './task-control.js';

/** The exit status containerd's CRI gives a task that vanished without a recorded exit. */
export const unknownExitStatus = 255;

/**
 * The exits of tasks that ended without the event stream saying so: for each of `ids` (containers
 * the caller believes running) whose task has stopped or is gone, its exit. A stopped task keeps its
 * status until deleted; a vanished one (its shim died, containerd cleaned up) exits with 255 now.
 *
 * One task list answers for all ids; each id it shows not running is asked again, so an id
 * that started after the list was taken is never reported.
 */
export async function missedExits(containerd: ContainerdClient, ids: readonly string[], signal: AbortSignal): Promise<TaskExit[]> {
  if (ids.length === 0) return [];
  const { tasks } = await containerd.tasks.list({ filter: '' }, { signal });
  const running = new Set(tasks.filter(t => isLive(t)).map(t => t.containerId || t.id));
  const exits: TaskExit[] = [];
  for (const id of ids.filter(i => !running.has(i))) {
    const task = await getKnownTask(containerd, id, signal);
    // UNKNOWN: the shim did not answer in time, so the process may run. Its exit event will tell.
    if (isLive(task) || isUnknown(task)) continue;
    const stopped = task?.status === taskTypes.Status.STOPPED;
    exits.push({
      containerId: id, id, pid: task?.pid ?? 0,
      exitStatus: stopped ? task.exitStatus : unknownExitStatus,
      exitedAt: stopped && task.exitedAt ? timestampNs(task.exitedAt) : nowNs(),
    });
  }
  return exits;
}
