// Found by the chaos suite (pnpm test:chaos, seed 2026120701, fault 11): after a crikitd SIGKILL the new
// crikitd adopts the running containerd; when that containerd then died, nothing noticed (it is not
// crikitd's child, so no exit event) and every RPC needing containerd failed UNAVAILABLE for good.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { cri } from '@crikit/api';
import { eventually } from '../support/container-fixture.js';
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

const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch { return false; }
};

test('a containerd adopted after a crikitd SIGKILL is restarted when it dies, and its pods stay READY', async () => {
  env = await podTestEnv(71);
  const pidFile = path.join((env.config.containerd as { managed: { stateDir: string } }).managed.stateDir, 'containerd.pid');
  daemon = await startCrikitd(env.config, env.dirs.dir);
  const { podSandboxId } = await daemon.client.runtime.runPodSandbox({ config: podConfig('adopted', { logDirectory: path.join(env.dirs.dir, 'logs') }) });

  daemon.proc.kill('SIGKILL');
  await daemon.exited;
  daemon.client.close();
  const first = Number(fs.readFileSync(pidFile, 'utf8'));
  assert.ok(alive(first), 'containerd outlives the crikitd that spawned it');
  daemon = await startCrikitd(env.config, env.dirs.dir);
  await eventually(() => daemon!.client.runtime.listPodSandbox({}).then(() => true, () => undefined), 'start-up to end');
  assert.equal(Number(fs.readFileSync(pidFile, 'utf8')), first, 'the new crikitd adopted it');

  process.kill(first, 'SIGKILL');
  // A call that needs containerd (the image's blobs are in its content store) works again once crikit restarted it.
  await eventually(() => daemon!.client.image.pullImage({ image: { image: env!.busybox } }, { timeoutMs: 5_000 }).then(() => true, () => undefined),
    'PullImage to work again after the adopted containerd died', 30_000);
  const second = Number(fs.readFileSync(pidFile, 'utf8'));
  assert.notEqual(second, first);
  assert.ok(alive(second), 'a new containerd runs');
  const s = await daemon.client.runtime.podSandboxStatus({ podSandboxId });
  assert.equal(s.status!.state, cri.PodSandboxState.SANDBOX_READY, 'the pod (its shim outlived containerd) is still READY');
  await daemon.client.runtime.stopPodSandbox({ podSandboxId });
  await daemon.client.runtime.removePodSandbox({ podSandboxId });
  assert.deepEqual(env.network.allocatedIps(), []);
});
