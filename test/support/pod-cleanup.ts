import fs from 'node:fs';
import path from 'node:path';
import { SandboxManager, SandboxStore } from '@crikit/core';
import type { CriRuntime } from '@crikit/server';
import type { RunningCrikitd } from './crikitd.js';
import { observeDaemon, observeInProcess } from './leak-watch.js';

/** Removes every pod an in-process runtime still has (what a failed test left), then stops it. */
export async function stopRuntimeAndPods(runtime: CriRuntime | undefined): Promise<void> {
  if (!runtime) return;
  for (const s of runtime.container.get(SandboxStore).list()) {
    await runtime.container.get<SandboxManager>(SandboxManager).remove(s.metadata.id, AbortSignal.timeout(30_000)).catch(() => {});
  }
  // What containerd and the process hold once no pod is left; the test env's cleanup reports it.
  await observeInProcess(runtime);
  await runtime.stop(AbortSignal.timeout(30_000));
  removeTestCgroups();
}

/** Removes every pod a crikitd child still has through its socket, then stops it. */
export async function stopDaemonAndPods(daemon: RunningCrikitd | undefined): Promise<void> {
  if (!daemon) return;
  for (const p of (await daemon.client.runtime.listPodSandbox({}).catch(() => ({ items: [] }))).items) {
    await daemon.client.runtime.removePodSandbox({ podSandboxId: p.id }).catch(() => {});
  }
  await observeDaemon(daemon);
  await daemon.stop();
  removeTestCgroups();
}

/**
 * Removes the (empty) cgroup parent the test pods used; a kubelet owns its pods' parents, in tests
 * nobody does. Busy or missing cgroups are left alone.
 */
export function removeTestCgroups(parent = 'crikit-test'): void {
  const root = '/sys/fs/cgroup';
  for (const controller of fs.readdirSync(root)) {
    const dir = path.join(root, controller, parent);
    if (fs.existsSync(dir)) {
      try { fs.rmdirSync(dir); } catch { /* still in use, or not a cgroup */ }
    }
  }
}
