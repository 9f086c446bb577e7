import { taskTypes } from '@crikit/api';
import type { ContainerdClient } from '../contracts/containerd-client.js';
import { getTask } from './task-control.js';

/** A task's state in the words containerd's client uses (its `ProcessStatus`). */
export type ProcessStatusWord = 'created' | 'running' | 'stopped' | 'paused' | 'pausing' | 'unknown';

const WORDS: Readonly<Record<number, ProcessStatusWord>> = {
  [taskTypes.Status.CREATED]: 'created',
  [taskTypes.Status.RUNNING]: 'running',
  [taskTypes.Status.STOPPED]: 'stopped',
  [taskTypes.Status.PAUSED]: 'paused',
  [taskTypes.Status.PAUSING]: 'pausing',
};

/** The word for a task status: its name in lower case, `unknown` for UNKNOWN and values this build does not know. */
export function processStatusWord(status: taskTypes.Status): ProcessStatusWord {
  return WORDS[status] ?? 'unknown';
}

/** What verbose Pod/ContainerStatus `info` says about a container's task. */
export interface TaskInfo {
  /** The task's init pid; 0 without a task. */
  readonly pid: number;
  /** As containerd's CRI shows it: the status word, '' when there is no task, `unknown` when it cannot be read. */
  readonly processStatus: ProcessStatusWord | '';
}

/** Reads the task of container `id` for verbose status. Never throws: a failed read is `unknown`. */
export async function taskInfo(containerd: ContainerdClient, id: string, signal: AbortSignal): Promise<TaskInfo> {
  try {
    const task = await getTask(containerd, id, signal);
    return task ? { pid: task.pid, processStatus: processStatusWord(task.status) } : { pid: 0, processStatus: '' };
  } catch {
    return { pid: 0, processStatus: 'unknown' };
  }
}
