// Hardening (issue 11) against real containerd, runc and CNI, through the CRI socket as a kubelet
// drives it: racing calls on one container, huge timeouts, ExecSync with a background child, and
// a log_path that tries to leave the pod's log directory.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { cri, type PartialMessage } from '@crikit/api';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { criClient, type CriClient } from '../support/cri-client.js';
import { stopRuntimeAndPods } from '../support/pod-cleanup.js';
import { containerConfig, runContainer } from '../support/container-fixture.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';
import { testLogger } from '../support/test-logger.js';

let env: PodTestEnv;
let logDir: string;
let runtime: CriRuntime;
let c: CriClient;
let pod: string;
let podCfg: PartialMessage<cri.PodSandboxConfig>;

before(async () => {
  env = await podTestEnv(88);
  logDir = path.join(env.dirs.dir, 'pod-logs');
  runtime = createRuntime({ logger: testLogger(), config: env.config });
  await runtime.start(AbortSignal.timeout(60_000));
  c = criClient(runtime.socket);
  await c.image.pullImage({ image: { image: env.busybox } });
  podCfg = podConfig('hardening', { logDirectory: logDir });
  pod = (await c.runtime.runPodSandbox({ config: podCfg })).podSandboxId;
});
after(async () => {
  c?.close();
  await stopRuntimeAndPods(runtime);
  await env?.cleanup();
});

const config = (name: string, script: string, extra: PartialMessage<cri.ContainerConfig> = {}) => containerConfig(name, env.busybox, script, extra);
const codeOf = (err: unknown) => (err as { code?: number }).code;
/** The pid of the containerd crikit manages here (from its pid file), for SIGSTOP/SIGCONT. */
const managedContainerdPid = () =>
  Number(fs.readFileSync(path.join((env.config.containerd as { managed: { stateDir: string } }).managed.stateDir, 'containerd.pid'), 'utf8'));

test('two StartContainer at once: one starts it, the other gets FAILED_PRECONDITION, and it keeps running', async () => {
  const { containerId } = await c.runtime.createContainer({ podSandboxId: pod, config: config('twice', 'exec sleep 1000'), sandboxConfig: podCfg });
  const results = await Promise.allSettled([c.runtime.startContainer({ containerId }), c.runtime.startContainer({ containerId })]);
  assert.equal(results.filter(r => r.status === 'fulfilled').length, 1, JSON.stringify(results.map(r => r.status)));
  const lost = results.find(r => r.status === 'rejected') as PromiseRejectedResult;
  assert.equal(codeOf(lost.reason), status.FAILED_PRECONDITION, String(lost.reason));
  const s = (await c.runtime.containerStatus({ containerId })).status!;
  assert.equal(s.state, cri.ContainerState.CONTAINER_RUNNING);
  assert.equal(s.reason, '');
  assert.equal((await c.runtime.execSync({ containerId, cmd: ['/bin/echo', 'alive'], timeout: 10n })).stdout.toString(), 'alive\n');
  await c.runtime.removeContainer({ containerId });
});

test('StopContainer with a timeout beyond 2^31-1 ms sends the stop signal and waits, no SIGKILL', async () => {
  const id = await runContainer(c, pod, podCfg, config('graceful', "trap 'exit 7' TERM; while true; do sleep 0.2; done"));
  await c.runtime.stopContainer({ containerId: id, timeout: 10n ** 12n });
  const s = (await c.runtime.containerStatus({ containerId: id })).status!;
  assert.equal(s.state, cri.ContainerState.CONTAINER_EXITED);
  assert.equal(s.exitCode, 7, 'the TERM trap ran; 137 would mean SIGKILL');
  await c.runtime.removeContainer({ containerId: id });
});

test('ExecSync returns when its command exits although a background child keeps stdout open', async () => {
  const id = await runContainer(c, pod, podCfg, config('background', 'exec sleep 1000'));
  const reply = await c.runtime.execSync({ containerId: id, cmd: ['/bin/sh', '-c', 'echo started; sleep 1000 &'], timeout: 0n });
  assert.equal(reply.stdout.toString(), 'started\n');
  assert.equal(reply.exitCode, 0);
  await c.runtime.removeContainer({ containerId: id });
});

test('a log_path climbing out of the pod log directory is INVALID_ARGUMENT; nothing is created', async () => {
  const before = (await c.runtime.listContainers({})).containers.length;
  await assert.rejects(
    c.runtime.createContainer({ podSandboxId: pod, config: config('escape', 'exec sleep 1000', { logPath: '../../escape.log' }), sandboxConfig: podCfg }),
    (err: unknown) => codeOf(err) === status.INVALID_ARGUMENT && String(err).includes('log_path'));
  assert.equal((await c.runtime.listContainers({})).containers.length, before);
  assert.equal(fs.existsSync(path.join(logDir, '..', '..', 'escape.log')), false);
});

test('a RunPodSandbox retried after the kubelet gave up gets the first attempt\'s sandbox; one pod, one IP', async () => {
  const cfg = podConfig('retried', { logDirectory: logDir });
  // A deadline far shorter than a pod start: the first call gives up, its attempt goes on.
  await assert.rejects(c.runtime.runPodSandbox({ config: cfg }, { timeoutMs: 100 }), (err: unknown) => codeOf(err) === status.DEADLINE_EXCEEDED);
  const { podSandboxId } = await c.runtime.runPodSandbox({ config: cfg });
  const again = await c.runtime.listPodSandbox({ filter: { labelSelector: cfg.labels ?? {} } });
  const named = again.items.filter(p => p.metadata?.name === 'retried');
  assert.deepEqual(named.map(p => p.id), [podSandboxId]);
  const s = (await c.runtime.podSandboxStatus({ podSandboxId })).status!;
  assert.equal(s.state, cri.PodSandboxState.SANDBOX_READY);
  assert.match(s.network?.ip ?? '', /^10\.88\.88\./);
  await c.runtime.stopPodSandbox({ podSandboxId });
  await c.runtime.removePodSandbox({ podSandboxId });
});

test('a CreateContainer retried after the kubelet gave up gets the first attempt\'s container; one container', async () => {
  const cfg = config('retried-ctr', 'exec sleep 1000');
  // containerd stopped (SIGSTOP): the first attempt cannot finish before its caller gives up, and
  // the retry arrives while it is still running.
  const containerdPid = managedContainerdPid();
  process.kill(containerdPid, 'SIGSTOP');
  const resume = setTimeout(() => process.kill(containerdPid, 'SIGCONT'), 1_000);
  let containerId: string;
  try {
    await assert.rejects(c.runtime.createContainer({ podSandboxId: pod, config: cfg, sandboxConfig: podCfg }, { timeoutMs: 300 }),
      (err: unknown) => codeOf(err) === status.DEADLINE_EXCEEDED);
    ({ containerId } = await c.runtime.createContainer({ podSandboxId: pod, config: cfg, sandboxConfig: podCfg }));
  } finally {
    clearTimeout(resume);
    process.kill(containerdPid, 'SIGCONT');
  }
  const named = (await c.runtime.listContainers({})).containers.filter(x => x.metadata?.name === 'retried-ctr');
  assert.deepEqual(named.map(x => x.id), [containerId]);
  await c.runtime.startContainer({ containerId });
  await c.runtime.removeContainer({ containerId });
});

test('StopPodSandbox racing RemovePodSandbox: each succeeds or is refused FAILED_PRECONDITION; a retried remove leaves no pod, no netns', async () => {
  const cfg = podConfig('raced', { logDirectory: logDir });
  const { podSandboxId } = await c.runtime.runPodSandbox({ config: cfg });
  const netns = (await c.runtime.podSandboxStatus({ podSandboxId, verbose: true })).info.info ?? '';
  const netnsPath = (JSON.parse(netns) as { netNamespacePath?: string }).netNamespacePath ?? '';
  assert.ok(netnsPath !== '' && fs.existsSync(netnsPath), `netns ${netnsPath}`);
  const results = await Promise.allSettled([c.runtime.stopPodSandbox({ podSandboxId }), c.runtime.removePodSandbox({ podSandboxId })]);
  for (const r of results) if (r.status === 'rejected') assert.equal(codeOf(r.reason), status.FAILED_PRECONDITION, String(r.reason));
  // The kubelet retries what was refused.
  await c.runtime.removePodSandbox({ podSandboxId });
  assert.equal((await c.runtime.listPodSandbox({})).items.some(p => p.id === podSandboxId), false);
  assert.equal(fs.existsSync(netnsPath), false);
});

test('CreateContainer racing RemovePodSandbox: the create is refused FAILED_PRECONDITION and leaves no container behind', async () => {
  const cfg = podConfig('raced-create', { logDirectory: logDir });
  const { podSandboxId } = await c.runtime.runPodSandbox({ config: cfg });
  // containerd held: the create waits on its first containerd call, the remove on its first; once
  // containerd goes on, the create's two remaining calls end long before the remove's CNI DEL does.
  const containerdPid = managedContainerdPid();
  process.kill(containerdPid, 'SIGSTOP');
  let created: PromiseSettledResult<unknown>;
  try {
    const create = c.runtime.createContainer({ podSandboxId, config: config('doomed', 'exec sleep 1000'), sandboxConfig: cfg });
    await new Promise(resolve => setTimeout(resolve, 200));
    const remove = c.runtime.removePodSandbox({ podSandboxId });
    await new Promise(resolve => setTimeout(resolve, 200));
    process.kill(containerdPid, 'SIGCONT');
    [created] = await Promise.allSettled([create, remove]);
  } finally {
    process.kill(containerdPid, 'SIGCONT');
  }
  assert.equal(created.status, 'rejected');
  assert.equal(codeOf((created as PromiseRejectedResult).reason), status.FAILED_PRECONDITION, String((created as PromiseRejectedResult).reason));
  assert.equal((await c.runtime.listContainers({})).containers.some(x => x.podSandboxId === podSandboxId), false);
  assert.equal((await c.runtime.listPodSandbox({})).items.some(p => p.id === podSandboxId), false);
});
