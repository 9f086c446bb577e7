// crikitd killed with SIGKILL while pods run: a new crikitd adopts the running containerd and
// finds every sandbox READY with the same IPs; stopping and removing them still releases the IPs.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cri } from '@crikit/api';
import { startCrikitd, type RunningCrikitd } from '../support/crikitd.js';
import { stopDaemonAndPods } from '../support/pod-cleanup.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { inNetns, podConfig } from '../support/pod-fixture.js';

let env: PodTestEnv | undefined;
let daemon: RunningCrikitd | undefined;

after(async () => {
  await stopDaemonAndPods(daemon);
  await env?.cleanup();
});

test('pods survive a crikit SIGKILL with their IPs, and are still torn down cleanly', async () => {
  env = await podTestEnv(78);
  const { config, dirs, network } = env;
  daemon = await startCrikitd(config, dirs.dir);
  const ids = [
    (await daemon.client.runtime.runPodSandbox({ config: podConfig('keep-a') })).podSandboxId,
    (await daemon.client.runtime.runPodSandbox({ config: podConfig('keep-b') })).podSandboxId,
  ];
  const before = await Promise.all(ids.map(async id => (await daemon!.client.runtime.podSandboxStatus({ podSandboxId: id, verbose: true }))));
  const ips = before.map(s => s.status!.network!.ip);

  daemon.proc.kill('SIGKILL');
  await daemon.exited;
  daemon.client.close();
  daemon = await startCrikitd(config, dirs.dir);

  for (const [i, id] of ids.entries()) {
    const s = await daemon.client.runtime.podSandboxStatus({ podSandboxId: id, verbose: true });
    assert.equal(s.status!.state, cri.PodSandboxState.SANDBOX_READY, `sandbox ${i} is ready after the restart`);
    assert.equal(s.status!.network!.ip, ips[i]);
    assert.equal(JSON.parse(s.info.info!).pid, JSON.parse(before[i]!.info.info!).pid, 'the same pause process');
  }
  // The network still works: one pod reaches the other.
  inNetns(JSON.parse(before[0]!.info.info!).netNamespacePath, ['busybox', 'ping', '-c', '1', '-W', '3', ips[1]!]);

  for (const id of ids) await daemon.client.runtime.stopPodSandbox({ podSandboxId: id });
  assert.deepEqual(network.allocatedIps(), [], 'stop after the restart released the IPs');
  for (const id of ids) await daemon.client.runtime.removePodSandbox({ podSandboxId: id });
  assert.deepEqual((await daemon.client.runtime.listPodSandbox({})).items, []);
});
