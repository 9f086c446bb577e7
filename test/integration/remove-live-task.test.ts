// Found by the chaos suite (pnpm test:chaos, seed 2026120701): a StartContainer cut short (containerd
// killed between tasks.start and its reply) left the task running while the record said the start
// failed. RemoveContainer then only asked containerd to delete the task, which refuses for a running
// one: "cannot delete a running process", again on every retry, and the shim leaked. Here that state
// is made directly: a task created and started through containerd while crikitd is down. Start-up
// recovery now takes such a task for a started container, as containerd's CRI does (it has no FIFOs
// here, so none are opened), and the removal stops it first.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { containerConfig, eventually } from '../support/container-fixture.js';
import { containerdPeek } from '../support/containerd-peek.js';
import { startCrikitd, type RunningCrikitd } from '../support/crikitd.js';
import { stopDaemonAndPods } from '../support/pod-cleanup.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';

let env: PodTestEnv | undefined;
let daemon: RunningCrikitd | undefined;

after(async () => {
  await stopDaemonAndPods(daemon);
  await env?.cleanup();
});

test('RemoveContainer kills a task left running behind a record that says it is not', async () => {
  env = await podTestEnv(71);
  const containerdState = (env.config.containerd as { managed: { stateDir: string } }).managed.stateDir;
  daemon = await startCrikitd(env.config, env.dirs.dir);
  const sandboxConfig = podConfig('live-task', { logDirectory: path.join(env.dirs.dir, 'logs') });
  const { podSandboxId } = await daemon.client.runtime.runPodSandbox({ config: sandboxConfig });
  await daemon.client.image.pullImage({ image: { image: env.busybox } });
  const { containerId } = await daemon.client.runtime.createContainer({ podSandboxId, config: containerConfig('live', env.busybox, 'sleep 3600'), sandboxConfig });
  daemon.proc.kill('SIGKILL');
  await daemon.exited;
  daemon.client.close();

  const peek = await containerdPeek(path.join(containerdState, 'containerd.sock'));
  try {
    const c = (await peek.containers.get({ id: containerId })).container!;
    const { mounts } = await peek.snapshots.mounts({ snapshotter: c.snapshotter, key: c.snapshotKey });
    await peek.tasks.create({ containerId, rootfs: mounts });
    await peek.tasks.start({ containerId });
  } finally {
    peek.close();
  }

  daemon = await startCrikitd(env.config, env.dirs.dir);
  await eventually(() => daemon!.client.runtime.listContainers({}).then(() => true, () => undefined), 'start-up to end');
  await daemon.client.runtime.removeContainer({ containerId });
  assert.deepEqual((await daemon.client.runtime.listContainers({})).containers, []);
  await daemon.client.runtime.stopPodSandbox({ podSandboxId });
  await daemon.client.runtime.removePodSandbox({ podSandboxId });
});
