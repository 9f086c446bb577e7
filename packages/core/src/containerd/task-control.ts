import { tasks as taskApi, taskTypes } from '@crikit/api';
import type { ContainerdClient } from '../contracts/containerd-client.js';
import { isFailedPrecondition, isNotFound } from '../errors.js';
import { thawAndKillCgroup } from './task-leftovers.js';

/** SIGKILL and SIGTERM by number (what containerd's Kill takes). */
export const Signals = { SIGKILL: 9, SIGTERM: 15 } as const;

/** The task of container `id`, or undefined when it has none. */
export async function getTask(containerd: ContainerdClient, id: string, signal: AbortSignal): Promise<taskTypes.Process | undefined> {
  try {
    return (await containerd.tasks.get({ containerId: id, execId: '' }, { signal })).process;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * True when containerd could not learn the task's state: its shim did not answer within containerd's
 * 2 s state timeout (a busy or stopped shim). The process may well run; nothing may be concluded.
 */
export const isUnknown = (p: taskTypes.Process | undefined): boolean => p?.status === taskTypes.Status.UNKNOWN;

/**
 * getTask, asked again (up to `tries` times, 0.5 s more between each) while containerd answers UNKNOWN.
 * Resolves with the last answer, which may still be UNKNOWN.
 */
export async function getKnownTask(containerd: ContainerdClient, id: string, signal: AbortSignal, tries = 4): Promise<taskTypes.Process | undefined> {
  for (let i = 1; ; i++) {
    const task = await getTask(containerd, id, signal);
    if (!isUnknown(task) || i >= tries || signal.aborted) return task;
    await new Promise(r => setTimeout(r, 500 * i));
  }
}

/** True while the task's process runs (or is paused): it still has to be killed. */
export const isLive = (p: taskTypes.Process | undefined): boolean =>
  p !== undefined && (p.status === taskTypes.Status.RUNNING || p.status === taskTypes.Status.PAUSED || p.status === taskTypes.Status.PAUSING || p.status === taskTypes.Status.CREATED);

/**
 * Sends `sig` to the task's init process, or to exec process `execId`, or (`all`) to every process
 * in it. A process that already exited or is gone is fine.
 */
export async function killTask(containerd: ContainerdClient, id: string, sig: number, options: { all?: boolean; execId?: string; signal: AbortSignal }): Promise<void> {
  try {
    await containerd.tasks.kill({ containerId: id, execId: options.execId ?? '', signal: sig, all: options.all ?? false }, { signal: options.signal });
  } catch (err) {
    if (!isNotFound(err) && !isFailedPrecondition(err)) throw err;
  }
}

/** Waits until the task exits; resolves with its exit status (or undefined when it had no task). */
export async function waitTask(containerd: ContainerdClient, id: string, signal: AbortSignal): Promise<taskApi.WaitResponse | undefined> {
  try {
    return await containerd.tasks.wait({ containerId: id, execId: '' }, { signal });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Deletes the task (the shim reaps it); a missing task is fine. Idempotent, also when an exit
 * handler deletes the same task at the same moment (the loser sees the shim going away).
 * Resolves true when this call's Delete succeeded: containerd then shut the task's shim down itself,
 * so nothing of the task is left on the host; false when containerd had no task (or lost it).
 */
export async function deleteTask(containerd: ContainerdClient, id: string, signal: AbortSignal): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      await containerd.tasks.delete({ containerId: id }, { signal });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      if (attempt >= 2) throw err;
      await new Promise(resolve => setTimeout(resolve, 100));
      if (!(await getTask(containerd, id, signal))) return false;
    }
  }
}

/**
 * Kills every process of the task with SIGKILL, waits for it to exit and deletes it. Idempotent.
 * With `cgroupsPath` (the spec's), a delete runc refuses because the cgroup was left frozen (a `runc
 * kill --all` cut short) thaws the cgroup, kills what it holds and deletes again. Resolves as deleteTask.
 */
export async function destroyTask(containerd: ContainerdClient, id: string, signal: AbortSignal, cgroupsPath?: string): Promise<boolean> {
  const task = await getTask(containerd, id, signal);
  if (!task) return false;
  if (isLive(task)) {
    const waiting = waitTask(containerd, id, signal);
    await killTask(containerd, id, Signals.SIGKILL, { all: true, signal });
    await waiting;
  }
  return deleteTask(containerd, id, signal).catch(async (err: unknown) => {
    if (cgroupsPath === undefined || (await thawAndKillCgroup(cgroupsPath)).length === 0) throw err;
    await new Promise(resolve => setTimeout(resolve, 200));
    return deleteTask(containerd, id, signal);
  });
}
