// What user input reaches the OCI spec (issue 11, defect 8), against real containerd and runc
// through the CRI socket: only the handler's allow-listed annotations, device host paths walked
// with bounds, and strings that look like the spec encoder's bigint placeholder stay strings.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { cri, PartialMessage } from '@crikit/api';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { containerConfig, runContainer } from '../support/container-fixture.js';
import { containerdPeek } from '../support/containerd-peek.js';
import { criClient, type CriClient } from '../support/cri-client.js';
import { stopRuntimeAndPods } from '../support/pod-cleanup.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';
import { testLogger } from '../support/test-logger.js';

let env: PodTestEnv;
let runtime: CriRuntime;
let c: CriClient;
let pod: string;
let podCfg: PartialMessage<cri.PodSandboxConfig>;

before(async () => {
  env = await podTestEnv(95, {
    runtimes: { handlers: { runc: { podAnnotations: ['pod.example.com/*'], containerAnnotations: ['ctr.example.com/*'] } } },
  });
  runtime = createRuntime({ logger: testLogger(), config: env.config });
  await runtime.start(AbortSignal.timeout(60_000));
  c = criClient(runtime.socket);
  await c.image.pullImage({ image: { image: env.busybox } });
  podCfg = podConfig('annotations', { annotations: { 'pod.example.com/allowed': 'p', 'pod.example.com/deep/er': 'no', 'other.io/secret': 'no' } });
  pod = (await c.runtime.runPodSandbox({ config: podCfg })).podSandboxId;
});
after(async () => {
  c?.close();
  await stopRuntimeAndPods(runtime);
  await env?.cleanup();
});

async function specOf(id: string): Promise<{ annotations?: Record<string, string>; process?: { env?: string[] } }> {
  const peek = await containerdPeek(path.join(env.dirs.dir, 'cs', 'containerd.sock'));
  try {
    const { container } = await peek.containers.get({ id });
    return JSON.parse(Buffer.from(container!.spec!.value).toString('utf8')) as { annotations?: Record<string, string> };
  } finally {
    peek.close();
  }
}

const userKeys = (a: Record<string, string> | undefined) => Object.keys(a ?? {}).filter(k => !k.startsWith('io.kubernetes.cri.')).sort();

test('only the annotations the runtime handler allows reach the sandbox and container specs', async () => {
  assert.deepEqual(userKeys((await specOf(pod)).annotations), ['pod.example.com/allowed']);
  const forged = '\u0000bigint:42';
  const id = await runContainer(c, pod, podCfg, containerConfig('annotated', env.busybox, 'exec sleep 1000', {
    annotations: { 'ctr.example.com/allowed': forged, 'io.kubernetes.cri.sandbox-id': 'spoof', 'org.systemd.property.CPUQuota': '1%', 'other.io/x': 'no' },
  }));
  const spec = await specOf(id);
  assert.deepEqual(userKeys(spec.annotations), ['ctr.example.com/allowed', 'pod.example.com/allowed']);
  assert.equal(spec.annotations?.['io.kubernetes.cri.sandbox-id'], pod);
  // A string shaped like the encoder's bigint placeholder stays a string (it was written as 42).
  assert.equal(spec.annotations?.['ctr.example.com/allowed'], forged);
  await c.runtime.removeContainer({ containerId: id });
});

test('a device host path that is a whole tree is refused with INVALID_ARGUMENT; a real device works', async () => {
  await assert.rejects(c.runtime.createContainer({ podSandboxId: pod, sandboxConfig: podCfg,
    config: containerConfig('dev-root', env.busybox, 'true', { devices: [{ hostPath: '/', containerPath: '/dev/host', permissions: 'r' }] }) }),
  (e: { code: number; details: string }) => e.code === status.INVALID_ARGUMENT && /device \/: (more than \d+ entries|nested deeper than)/.test(e.details));
  const deep = path.join(env.dirs.dir, 'deep');
  fs.mkdirSync(path.join(deep, 'a/b/c/d/e/f/g/h/i/j'), { recursive: true });
  await assert.rejects(c.runtime.createContainer({ podSandboxId: pod, sandboxConfig: podCfg,
    config: containerConfig('dev-deep', env.busybox, 'true', { devices: [{ hostPath: deep, containerPath: '/dev/deep', permissions: 'r' }] }) }),
  (e: { code: number; details: string }) => e.code === status.INVALID_ARGUMENT && /deeper than/.test(e.details));
  assert.deepEqual((await c.runtime.listContainers({ filter: { podSandboxId: pod } })).containers, []);
  const id = await runContainer(c, pod, podCfg, containerConfig('dev-null', env.busybox, 'exec sleep 1000', {
    devices: [{ hostPath: '/dev/null', containerPath: '/dev/mynull', permissions: 'rw' }],
  }));
  const out = await c.runtime.execSync({ containerId: id, cmd: ['/bin/sh', '-c', 'echo x > /dev/mynull && echo ok'], timeout: 10n });
  assert.equal(Buffer.from(out.stdout).toString(), 'ok\n');
  await c.runtime.removeContainer({ containerId: id });
});
