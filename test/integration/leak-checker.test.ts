// The leak checker that runs after every pod test file (test/support/pod-env.ts) against real leaks:
// a pod the test "forgets" to remove (its netns, IP, port mapping, shm, FIFOs, shim, containerd
// container and snapshot), a lease, an open fd and a child process. Once they are undone it reports nothing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { cri } from '@crikit/api';
import { ContainerdClient } from '@crikit/core';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { LeakChecker, LeakError, assertClean, withoutExpected, type LeakKind } from '@crikit/testkit';
import { criClient, type CriClient } from '../support/cri-client.js';
import { containerConfig, runContainer } from '../support/container-fixture.js';
import { observeInProcess, unwatchLeaks, watchLeaks } from '../support/leak-watch.js';
import { stopRuntimeAndPods } from '../support/pod-cleanup.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';
import { testLogger } from '../support/test-logger.js';

let env: PodTestEnv;
let runtime: CriRuntime;
let c: CriClient;

before(async () => {
  env = await podTestEnv(93);
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

test('a forgotten pod, a lease, an fd and a child process are each reported; once undone, nothing is', async () => {
  // A checker of its own over the same scope as the env's, so the env's still guards this file.
  const checker: LeakChecker = await watchLeaks(env.dirs.dir, env.network.ipamDir, 93);
  const cfg = podConfig('forgotten', {
    logDirectory: path.join(env.dirs.dir, 'logs'),
    portMappings: [{ protocol: cri.Protocol.TCP, containerPort: 80, hostPort: 40093 }],
  });
  const { podSandboxId } = await c.runtime.runPodSandbox({ config: cfg });
  const containerId = await runContainer(c, podSandboxId, cfg, containerConfig('forgotten-main', env.busybox, 'exec sleep 1000'));
  const containerd = runtime.container.get<ContainerdClient>(ContainerdClient);
  await containerd.leases.create({ id: 'forgotten-lease', labels: {} });
  const fd = fs.openSync(path.join(env.dirs.dir, 'forgotten-file'), 'w');
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  const exited = new Promise(r => child.once('exit', r));
  await new Promise(r => child.once('spawn', r));
  try {
    await observeInProcess(runtime);
    const report = await checker.check(0);
    const has = (kind: LeakKind, part: string) => assert.ok((report[kind] ?? []).some(i => i.includes(part)), `${kind} names ${part}: ${JSON.stringify(report[kind])}`);
    has('netns', podSandboxId);
    has('ips', '10.88.93.');
    has('iptables', podSandboxId);
    has('iptables', 'DNAT --to-destination 10.88.93.');
    has('mounts', `sandboxes/${podSandboxId}/shm`);
    has('fifos', `containers/${containerId}/`);
    has('processes', 'containerd-shim');
    has('containers', podSandboxId);
    has('containers', containerId);
    has('snapshots', containerId);
    has('leases', 'forgotten-lease');
    has('fds', 'forgotten-file');
    has('children', `${child.pid} sleep 1000`);
    assert.throws(() => assertClean(report, 'this test'), (err: unknown) => err instanceof LeakError && err.message.includes('forgotten-lease'));
  } finally {
    await c.runtime.stopPodSandbox({ podSandboxId });
    await c.runtime.removePodSandbox({ podSandboxId });
    await containerd.leases.delete({ id: 'forgotten-lease', sync: true });
    fs.closeSync(fd);
    child.kill('SIGKILL');
    await exited;
  }
  await observeInProcess(runtime);
  unwatchLeaks(env.dirs.dir, checker);
  // crikit still runs: the spare FIFOs of its pool are its stock (removed when it stops, as the env's check sees).
  const spares = { fifos: [`${path.join(env.config.paths.stateDir, 'fifo-pool')}/`] };
  assert.deepEqual(withoutExpected(await checker.check(), spares), {}, 'nothing once the pod is removed and the rest undone');
});
