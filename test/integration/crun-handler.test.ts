// crun as a second runtime handler (`runtimes.handlers.crun.binaryName = "crun"`): a pod and its
// containers run, exec, log, stop and go away through the CRI socket exactly as on runc, and crun,
// not runc, is what runs them (its state under the shim's root, its cgroups made and removed).
//
// Host prerequisite: crun 1.8 refuses every container on a cgroup v1 host whose cgroup2 mount at
// /sys/fs/cgroup/unified holds a controller ("cgroups in hybrid mode not supported, drop all
// controllers from cgroupv2", libcrun_cgroup_enter in https://github.com/containers/crun/blob/1.8.1/src/libcrun/cgroup.c).
// A controller sits there when no v1 hierarchy mounts it (hugetlb on this VM); systemd's hybrid layout
// mounts every controller on v1 and leaves the unified one empty. .ci/run does the same.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { cri } from '@crikit/api';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { containerConfig, eventually, exited, logFile, logLines, runContainer } from '../support/container-fixture.js';
import { criClient, type CriClient } from '../support/cri-client.js';
import { stopRuntimeAndPods } from '../support/pod-cleanup.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';
import { testLogger } from '../support/test-logger.js';

/** Where containerd's runc shim keeps the OCI runtime's state for namespace k8s.io (the handler sets no `root`). */
const shimRoot = '/run/containerd/runc/k8s.io';
let env: PodTestEnv;
let runtime: CriRuntime;
let c: CriClient;
let logDir: string;

/** `crun state` of an id under the shim's root: its JSON, or undefined when crun does not know it. */
function crunState(id: string): { status: string; pid: number } | undefined {
  const r = spawnSync('crun', ['--root', shimRoot, 'state', id], { encoding: 'utf8' });
  return r.status === 0 ? JSON.parse(r.stdout) : undefined;
}

/** The cgroup dirs named `id` under the test pods' parent, in every hierarchy. */
function cgroupDirs(id: string): string[] {
  return fs.readdirSync('/sys/fs/cgroup').map(h => path.join('/sys/fs/cgroup', h, 'crikit-test', id)).filter(d => fs.existsSync(d));
}

before(async () => {
  assert.equal(spawnSync('crun', ['--version']).status, 0, 'crun is needed for this test: apt-get install crun');
  const unified = '/sys/fs/cgroup/unified/cgroup.controllers';
  const onV2 = fs.existsSync(unified) ? fs.readFileSync(unified, 'utf8').trim() : '';
  assert.equal(onV2, '', `crun refuses a hybrid cgroup layout whose ${unified} lists controllers (${onV2}): mount each on a v1 ` +
    'hierarchy first, as .ci/run does (mkdir /sys/fs/cgroup/<c> && mount -t cgroup -o <c> cgroup /sys/fs/cgroup/<c>)');
  env = await podTestEnv(76, { runtimes: { handlers: { runc: {}, crun: { binaryName: 'crun' } } } });
  logDir = path.join(env.dirs.dir, 'pod-logs');
  runtime = createRuntime({ logger: testLogger(), config: env.config });
  await runtime.start(AbortSignal.timeout(60_000));
  c = criClient(runtime.socket);
  await c.image.pullImage({ image: { image: env.busybox } });
});
after(async () => {
  c?.close();
  await stopRuntimeAndPods(runtime);
  await env?.cleanup();
});

test('a crun pod and its containers: run, exec, logs, exit codes, stop, remove, status', async () => {
  assert.ok((await c.runtime.status({})).runtimeHandlers.some(h => h.name === 'crun'), 'Status lists the crun handler');
  const podCfg = podConfig('crun', { logDirectory: logDir });
  const pod = (await c.runtime.runPodSandbox({ config: podCfg, runtimeHandler: 'crun' })).podSandboxId;
  const podStatus = (await c.runtime.podSandboxStatus({ podSandboxId: pod })).status!;
  assert.equal(podStatus.state, cri.PodSandboxState.SANDBOX_READY);
  assert.equal(podStatus.runtimeHandler, 'crun');
  assert.match(podStatus.network?.ip ?? '', /^10\.88\.76\.\d+$/);
  assert.equal(crunState(pod)?.status, 'running', 'crun runs the pause container');

  const id = await runContainer(c, pod, podCfg, containerConfig('crun-main', env.busybox,
    'echo out; echo err >&2; trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done'));
  const s = (await c.runtime.containerStatus({ containerId: id, verbose: true })).status!;
  assert.equal(s.state, cri.ContainerState.CONTAINER_RUNNING);
  const state = crunState(id);
  assert.equal(state?.status, 'running', 'crun runs the container');
  assert.equal(spawnSync('runc', ['--root', shimRoot, 'state', id]).status !== 0, true, 'runc does not know it');

  // ExecSync goes through the shim's exec, which calls `crun exec`.
  const exec = (cmd: string[]) => c.runtime.execSync({ containerId: id, cmd, timeout: 10n });
  const hi = await exec(['/bin/echo', 'hi']);
  assert.deepEqual([hi.stdout.toString(), hi.exitCode], ['hi\n', 0]);
  const bad = await exec(['/bin/sh', '-c', 'echo oops >&2; exit 3']);
  assert.deepEqual([bad.stderr.toString(), bad.exitCode], ['oops\n', 3]);
  // The process is in the cgroups crun made for it, under the pod's parent, in every hierarchy.
  const cgroups = (await exec(['/bin/cat', '/proc/self/cgroup'])).stdout.toString();
  assert.match(cgroups, new RegExp(`^\\d+:memory:/crikit-test/${id}$`, 'm'));
  assert.ok(cgroupDirs(id).length >= 2, 'cgroup dirs on the host');
  await c.runtime.updateContainerResources({ containerId: id, linux: { memoryLimitInBytes: 96n << 20n } });
  assert.equal(fs.readFileSync(`/sys/fs/cgroup/memory/crikit-test/${id}/memory.limit_in_bytes`, 'utf8').trim(), String(96 << 20));

  const lines = await eventually(async () => { const l = logLines(logFile(logDir, 'crun-main')); return l.length >= 2 ? l : undefined; }, 'two log lines');
  assert.deepEqual(lines.map(l => [l.stream, l.tag, l.text]).sort(), [['stderr', 'F', 'err'], ['stdout', 'F', 'out']]);

  const failing = await runContainer(c, pod, podCfg, containerConfig('crun-exit', env.busybox, 'exit 7'));
  const failed = await exited(c, failing);
  assert.deepEqual([failed.exitCode, failed.reason], [7, 'Error']);

  await c.runtime.stopContainer({ containerId: id, timeout: 10n });
  const stopped = (await c.runtime.containerStatus({ containerId: id })).status!;
  assert.deepEqual([stopped.state, stopped.exitCode, stopped.reason], [cri.ContainerState.CONTAINER_EXITED, 0, 'Completed']);
  assert.ok(logLines(logFile(logDir, 'crun-main')).some(l => l.text === 'bye'), 'SIGTERM reached the trap');
  for (const x of [id, failing]) await c.runtime.removeContainer({ containerId: x });
  assert.deepEqual((await c.runtime.listContainers({ filter: { podSandboxId: pod } })).containers, []);
  await assert.rejects(c.runtime.containerStatus({ containerId: id }), (e: { code: number }) => e.code === status.NOT_FOUND);
  assert.equal(crunState(id), undefined, 'crun deleted the container');

  await c.runtime.stopPodSandbox({ podSandboxId: pod });
  assert.equal((await c.runtime.podSandboxStatus({ podSandboxId: pod })).status!.state, cri.PodSandboxState.SANDBOX_NOTREADY);
  await c.runtime.removePodSandbox({ podSandboxId: pod });
  assert.deepEqual((await c.runtime.listPodSandbox({})).items, []);
  assert.equal(crunState(pod), undefined, 'crun deleted the pause container');
  for (const x of [pod, id, failing]) assert.deepEqual(cgroupDirs(x), [], `cgroups of ${x} removed`);
});

test('runc and crun pods side by side on one crikit', async () => {
  const pods = await Promise.all(['runc', 'crun'].map(async handler => {
    const cfg = podConfig(`side-${handler}`, { logDirectory: logDir });
    const pod = (await c.runtime.runPodSandbox({ config: cfg, runtimeHandler: handler })).podSandboxId;
    const id = await runContainer(c, pod, cfg, containerConfig(`side-${handler}`, env.busybox, 'exec sleep 1000'));
    return { handler, pod, id };
  }));
  for (const p of pods) {
    assert.equal(crunState(p.id) !== undefined, p.handler === 'crun', `${p.handler}: crun state`);
    assert.equal((await c.runtime.execSync({ containerId: p.id, cmd: ['/bin/echo', p.handler], timeout: 10n })).stdout.toString(), `${p.handler}\n`);
  }
  for (const p of pods) {
    await c.runtime.stopPodSandbox({ podSandboxId: p.pod });
    await c.runtime.removePodSandbox({ podSandboxId: p.pod });
  }
});
