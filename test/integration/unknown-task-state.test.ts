// Found by the chaos suite (pnpm test:chaos, seed 2026120701, under a load average near 20): containerd
// answers a task's state UNKNOWN when its shim does not reply within 2 s. crikitd's start-up took that
// for "no live task": a running pod became NOTREADY and its running container EXITED (255), and
// RemoveContainer then failed on the still-running task, leaking its shim. Here the shims are
// SIGSTOPped across a crikitd restart, which makes containerd answer UNKNOWN for a few seconds.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { cri } from '@crikit/api';
import { containerConfig, eventually } from '../support/container-fixture.js';
import { startCrikitd, type RunningCrikitd } from '../support/crikitd.js';
import { stopDaemonAndPods } from '../support/pod-cleanup.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';

let env: PodTestEnv | undefined;
let daemon: RunningCrikitd | undefined;
let stopped: number[] = [];

after(async () => {
  for (const pid of stopped) { try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ } }
  await stopDaemonAndPods(daemon);
  await env?.cleanup();
});

/** The shims of the test's containerd (their command line names its socket). */
function shimsOf(socket: string): number[] {
  return fs.readdirSync('/proc').filter(n => /^\d+$/.test(n)).filter(n => {
    const argv = (() => { try { return fs.readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0'); } catch { return []; } })();
    return argv[0]?.endsWith('containerd-shim-runc-v2') && argv.includes(socket);
  }).map(Number);
}

test('a pod and container whose shims answer late across a crikitd restart stay READY and RUNNING', async () => {
  env = await podTestEnv(71);
  const containerdSocket = path.join((env.config.containerd as { managed: { stateDir: string } }).managed.stateDir, 'containerd.sock');
  daemon = await startCrikitd(env.config, env.dirs.dir);
  const sandboxConfig = podConfig('late-shim', { logDirectory: path.join(env.dirs.dir, 'logs') });
  const { podSandboxId } = await daemon.client.runtime.runPodSandbox({ config: sandboxConfig });
  await daemon.client.image.pullImage({ image: { image: env.busybox } });
  const { containerId } = await daemon.client.runtime.createContainer({ podSandboxId, config: containerConfig('late', env.busybox, 'sleep 3600'), sandboxConfig });
  await daemon.client.runtime.startContainer({ containerId });

  daemon.proc.kill('SIGKILL');
  await daemon.exited;
  daemon.client.close();
  stopped = shimsOf(containerdSocket);
  assert.ok(stopped.length >= 1, 'the pod has a shim');
  for (const pid of stopped) process.kill(pid, 'SIGSTOP');
  daemon = await startCrikitd(env.config, env.dirs.dir);
  // The shims stay silent through crikitd's first look at the tasks, then answer again.
  await new Promise(r => setTimeout(r, 3_000));
  for (const pid of stopped) process.kill(pid, 'SIGCONT');
  stopped = [];
  await eventually(() => daemon!.client.runtime.listPodSandbox({}).then(() => true, () => undefined), 'start-up to end', 60_000);

  const pod = (await daemon.client.runtime.podSandboxStatus({ podSandboxId })).status!;
  assert.equal(pod.state, cri.PodSandboxState.SANDBOX_READY, 'the pod is still READY');
  const c = (await daemon.client.runtime.containerStatus({ containerId })).status!;
  assert.equal(c.state, cri.ContainerState.CONTAINER_RUNNING, `the container still runs (${c.reason} ${c.exitCode})`);
  const r = await daemon.client.runtime.execSync({ containerId, cmd: ['echo', 'alive'], timeout: 10 });
  assert.equal(Buffer.from(r.stdout).toString(), 'alive\n');
  await daemon.client.runtime.stopContainer({ containerId, timeout: 0 });
  await daemon.client.runtime.removeContainer({ containerId });
  await daemon.client.runtime.stopPodSandbox({ podSandboxId });
  await daemon.client.runtime.removePodSandbox({ podSandboxId });
});
