// crikitd killed with SIGKILL while containers run: after a restart every sandbox and container is
// back with its state, running containers keep logging into the same files, and an exit that
// happened while crikit was down is recorded with its code.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { cri } from '@crikit/api';
import { startCrikitd, type RunningCrikitd } from '../support/crikitd.js';
import { stopDaemonAndPods } from '../support/pod-cleanup.js';
import { containerConfig, eventually, exited, logFile, logLines, runContainer } from '../support/container-fixture.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';

let env: PodTestEnv | undefined;
let daemon: RunningCrikitd | undefined;

after(async () => {
  await stopDaemonAndPods(daemon);
  await env?.cleanup();
});

test('containers survive a crikit SIGKILL: state, logs and exits while down', async () => {
  env = await podTestEnv(80);
  const { config, dirs, busybox: image } = env;
  const logDir = path.join(dirs.dir, 'pod-logs');
  daemon = await startCrikitd(config, dirs.dir);
  const c = daemon.client;
  await c.image.pullImage({ image: { image } });
  const podCfg = podConfig('survivor', { logDirectory: logDir });
  const pod = (await c.runtime.runPodSandbox({ config: podCfg })).podSandboxId;
  const ticker = await runContainer(c, pod, podCfg, containerConfig('ticker', image, 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done'));
  const shortLived = await runContainer(c, pod, podCfg, containerConfig('short', image, 'sleep 2; exit 7'));
  await eventually(async () => (logLines(logFile(logDir, 'ticker')).length >= 2 ? true : undefined), 'ticks before the kill');

  daemon.proc.kill('SIGKILL');
  await daemon.exited;
  daemon.client.close();
  // While crikit is down the short container exits, and the ticker keeps writing into its FIFO.
  await new Promise(r => setTimeout(r, 3_000));
  const linesBefore = logLines(logFile(logDir, 'ticker')).length;
  daemon = await startCrikitd(config, dirs.dir);
  const c2 = daemon.client;

  assert.equal((await c2.runtime.podSandboxStatus({ podSandboxId: pod })).status!.state, cri.PodSandboxState.SANDBOX_READY);
  assert.equal((await c2.runtime.containerStatus({ containerId: ticker })).status!.state, cri.ContainerState.CONTAINER_RUNNING);
  const short = await exited(c2, shortLived);
  assert.equal(short.exitCode, 7);
  assert.equal(short.reason, 'Error');
  await eventually(async () => (logLines(logFile(logDir, 'ticker')).length > linesBefore + 2 ? true : undefined), 'ticks after the restart');
  const ticks = logLines(logFile(logDir, 'ticker')).map(l => Number(l.text.replace('tick ', '')));
  assert.deepEqual(ticks, ticks.map((_v, i) => i), 'every tick logged once, in order: none lost or doubled across the restart');

  await c2.runtime.stopContainer({ containerId: ticker, timeout: 2n });
  await c2.runtime.removePodSandbox({ podSandboxId: pod });
  assert.deepEqual((await c2.runtime.listContainers({})).containers, []);
});
