// Exits that happen while containerd is down reach no event stream: a shim gives up publishing after
// about 15 s, and containerd restarting cleans up the tasks of a dead shim before anyone can subscribe.
// After containerd comes back, crikit must find those exits itself (real containerd, runc, CNI,
// through the CRI socket).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ContainerModule } from 'inversify';
import { cri } from '@crikit/api';
import { ManagedContainerdOptions } from '@crikit/containerd';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { criClient, type CriClient } from '../support/cri-client.js';
import { containerConfig, eventually, runContainer } from '../support/container-fixture.js';
import { containerdPeek } from '../support/containerd-peek.js';
import { stopRuntimeAndPods } from '../support/pod-cleanup.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';
import { testLogger } from '../support/test-logger.js';

/**
 * How long crikit waits before restarting the containerd that died (its longest delay). With containerd's
 * start-up that is about as long as a shim retries an event (1+2+3+4+5 s), so the exits of pod "stopped"
 * are not delivered late; those of pod "vanished" are lost for certain (containerd cleans up a dead shim's
 * tasks before it serves).
 */
const restartDelayMs = 10_000;

let env: PodTestEnv;
let runtime: CriRuntime;
let c: CriClient;

before(async () => {
  env = await podTestEnv(93);
  const slowRestart = new ContainerModule(o => { o.bind(ManagedContainerdOptions).toConstantValue({ restartDelayMs }); });
  runtime = createRuntime({ logger: testLogger(), config: env.config, overrides: [slowRestart] });
  await runtime.start(AbortSignal.timeout(60_000));
  c = criClient(runtime.socket);
  await c.image.pullImage({ image: { image: env.busybox } });
});
after(async () => {
  c?.close();
  await stopRuntimeAndPods(runtime);
  await env?.cleanup();
});

const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
const parentOf = (pid: number): number => Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

async function podWithContainer(name: string): Promise<{ pod: string; container: string }> {
  const cfg = podConfig(name, { logDirectory: path.join(env.dirs.dir, 'logs', name) });
  const { podSandboxId: pod } = await c.runtime.runPodSandbox({ config: cfg });
  const container = await runContainer(c, pod, cfg, containerConfig(`${name}-main`, env.busybox, 'exec sleep 1000'));
  return { pod, container };
}

test('exits while containerd is down are recorded once it is back: stopped tasks with their status, vanished ones with 255', async () => {
  const stateDir = (env.config.containerd as { managed: { stateDir: string } }).managed.stateDir;
  const peek = await containerdPeek(path.join(stateDir, 'containerd.sock'));
  const pidOf = async (id: string) => (await peek.tasks.get({ containerId: id, execId: '' })).process!.pid;
  // Pod "stopped": its shim lives on and keeps the exit statuses. Pod "vanished": its shim dies too.
  const stopped = await podWithContainer('stopped');
  const vanished = await podWithContainer('vanished');
  const stoppedPids = { pause: await pidOf(stopped.pod), main: await pidOf(stopped.container) };
  const vanishedMain = await pidOf(vanished.container);
  const vanishedShim = parentOf(vanishedMain);
  peek.close();

  const containerdPid = Number(fs.readFileSync(path.join(stateDir, 'containerd.pid'), 'utf8'));
  process.kill(containerdPid, 'SIGKILL');
  await eventually(async () => (alive(containerdPid) ? undefined : true), 'containerd to die');
  const killedAt = nowNs();
  process.kill(stoppedPids.main, 'SIGKILL');
  process.kill(stoppedPids.pause, 'SIGKILL');
  process.kill(vanishedMain, 'SIGKILL');
  process.kill(vanishedShim, 'SIGKILL');

  const status = (id: string) => c.runtime.containerStatus({ containerId: id }).then(r => r.status!);
  const podState = (id: string) => c.runtime.podSandboxStatus({ podSandboxId: id }).then(r => r.status!.state);
  const exited = (id: string) => eventually(async () => {
    const s = await status(id);
    return s.state === cri.ContainerState.CONTAINER_EXITED ? s : undefined;
  }, `container ${id} to be seen exited`, restartDelayMs + 30_000);

  const s = await exited(stopped.container);
  assert.equal(s.exitCode, 137, 'the status the shim kept: killed by SIGKILL');
  assert.equal(s.reason, 'Error');
  assert.ok(s.finishedAt >= killedAt && s.finishedAt <= nowNs(), `finishedAt ${s.finishedAt} is when it was killed`);
  const v = await exited(vanished.container);
  assert.equal(v.exitCode, 255, 'a task containerd cleaned up without an exit status');
  assert.ok(v.finishedAt >= killedAt);
  for (const pod of [stopped.pod, vanished.pod]) {
    await eventually(async () => ((await podState(pod)) === cri.PodSandboxState.SANDBOX_NOTREADY ? true : undefined), `pod ${pod} NOTREADY`);
  }

  // The kubelet then cleans up as usual.
  for (const pod of [stopped.pod, vanished.pod]) {
    await c.runtime.stopPodSandbox({ podSandboxId: pod });
    await c.runtime.removePodSandbox({ podSandboxId: pod });
  }
  assert.deepEqual((await c.runtime.listContainers({})).containers, []);
  assert.deepEqual(env.network.allocatedIps(), []);
});
