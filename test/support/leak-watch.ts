import fs from 'node:fs';
import path from 'node:path';
import { snapshots } from '@crikit/api';
import { ManagedContainerd } from '@crikit/containerd';
import { ContainerdClient, PathsConfig, Snapshotter, SpawnHelper, spawnHelperMarker } from '@crikit/core';
import type { CriRuntime } from '@crikit/server';
import { childrenOf, LeakChecker, type ContainerdItems } from '@crikit/testkit';
import { containerdPeek } from './containerd-peek.js';
import type { RunningCrikitd } from './crikitd.js';

// The checkers of each test dir (a test file's podTestEnv); the stop helpers find them by the runtime's dirs.
const checkers = new Map<string, Set<LeakChecker>>();

/** Starts watching what the test owning `dir` leaks; `check` it after everything was stopped. */
export async function watchLeaks(dir: string, ipamDir: string, n: number): Promise<LeakChecker> {
  const checker = await LeakChecker.start({
    dirs: [dir], ipamDirs: [ipamDir], iptablesMarks: [`10.88.${n}.`, `crikit-test-${n}\\"`],
    // The netns dir is made a private mount point once, for all pins to come (as `ip netns` does with /run/netns).
    expected: { mounts: [path.join(dir, 'state', 'netns')] },
  });
  checkers.set(dir, (checkers.get(dir) ?? new Set()).add(checker));
  return checker;
}

/** Forgets `checker`: no more observations go to it. */
export function unwatchLeaks(dir: string, checker: LeakChecker): void {
  checkers.get(dir)?.delete(checker);
}

/** What containerd holds in the client's namespace: containers, active and view snapshots, leases. */
export async function containerdItems(client: ContainerdClient, snapshotter: string): Promise<ContainerdItems> {
  const signal = AbortSignal.timeout(20_000);
  const { containers } = await client.containers.list({ filters: [] }, { signal });
  const { leases } = await client.leases.list({ filters: [] }, { signal });
  const active: string[] = [];
  for await (const page of client.snapshots.list({ snapshotter, filters: [] }, { signal })) {
    // Views too (image volumes); committed snapshots are image layers, kept on purpose.
    for (const info of page.info) if (info.kind !== snapshots.Kind.COMMITTED) active.push(`${snapshotter}/${info.name}`);
  }
  return { containers: containers.map(c => c.id), snapshots: active, leases: leases.map(l => l.id) };
}

/**
 * For an in-process runtime about to stop: its containerd's state, the process's fds and children. Never
 * throws: a failure is recorded for the test env's cleanup to report.
 */
export async function observeInProcess(runtime: CriRuntime): Promise<void> {
  const { rootDir } = runtime.container.get<PathsConfig>(PathsConfig);
  for (const checker of checkers.get(path.dirname(rootDir)) ?? []) {
    await observeInProcessWith(checker, runtime).catch(err => checker.observeFailure('observe the in-process runtime', err));
  }
}

async function observeInProcessWith(checker: LeakChecker, runtime: CriRuntime): Promise<void> {
  const c = runtime.container;
  checker.observeContainerd(await containerdItems(c.get<ContainerdClient>(ContainerdClient), c.get<string>(Snapshotter)));
  const containerd = c.isBound(ManagedContainerd) ? c.get(ManagedContainerd).pid : undefined;
  // The runtime's spawn helper is its own, as its containerd is; it ends when the runtime stops.
  const helper = c.isBound(SpawnHelper) ? c.get(SpawnHelper).pid : undefined;
  await checker.observeRuntime(process.pid, [containerd, helper].filter((pid): pid is number => pid !== undefined));
}

/**
 * For a crikitd child about to stop (dirs from tempRuntimeDirs): its containerd's state, its fds and children.
 * Never throws: a failure is recorded for the test env's cleanup to report.
 */
export async function observeDaemon(daemon: RunningCrikitd): Promise<void> {
  const dir = path.dirname(daemon.socket);
  if (daemon.proc.pid === undefined || daemon.proc.exitCode !== null || daemon.proc.signalCode !== null) return;
  for (const checker of checkers.get(dir) ?? []) {
    await observeDaemonWith(checker, dir, daemon.proc.pid).catch(err => checker.observeFailure('observe crikitd', err));
  }
}

async function observeDaemonWith(checker: LeakChecker, dir: string, pid: number): Promise<void> {
  const stateDir = path.join(dir, 'cs');
  const peek = await containerdPeek(path.join(stateDir, 'containerd.sock'));
  try {
    checker.observeContainerd(await containerdItems(peek, 'overlayfs'));
  } finally {
    peek.close();
  }
  const containerd = Number(fs.readFileSync(path.join(stateDir, 'containerd.pid'), 'utf8'));
  // crikitd's spawn helper, known by the first line of its program.
  const helpers = (await childrenOf(pid)).filter(c => c.includes(spawnHelperMarker)).map(c => Number(c.split(' ')[0]));
  await checker.observeRuntime(pid, [containerd, ...helpers]);
}
