// Recursive read-only mounts (`Mount.recursive_read_only`) with the real runc, which declares `rro`,
// and the real crun 1.8.1, which has no `features` subcommand but whose release has `rro` and whose
// probe at start-up saw it work; their refusal on a handler whose binary says nothing (runc behind a
// wrapper that, like runc 1.0, has no `features`): what Status advertises is what CreateContainer does.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { cri, type PartialMessage } from '@crikit/api';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { containerConfig, runContainer } from '../support/container-fixture.js';
import { containerdPeek } from '../support/containerd-peek.js';
import { criClient, type CriClient } from '../support/cri-client.js';
import { stopRuntimeAndPods } from '../support/pod-cleanup.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';
import { testLogger } from '../support/test-logger.js';

const PRIVATE = cri.MountPropagation.PROPAGATION_PRIVATE;
let env: PodTestEnv;
let runtime: CriRuntime;
let c: CriClient;
let volume: string;
const cleanups: (() => void)[] = [];

before(async () => {
  // runc as a runtime older than 1.1 looks: everything works but `features`.
  const oldRunc = path.join(fs.mkdtempSync('/tmp/ck-oldrunc-'), 'runc-without-features');
  fs.writeFileSync(oldRunc, '#!/bin/sh\n[ "$1" = features ] && { echo "unknown command features" >&2; exit 1; }\nexec runc "$@"\n', { mode: 0o755 });
  env = await podTestEnv(86, { runtimes: { handlers: { runc: {}, crun: { binaryName: 'crun' }, old: { binaryName: oldRunc } } } });
  cleanups.push(() => fs.rmSync(path.dirname(oldRunc), { recursive: true, force: true }));
  runtime = createRuntime({ logger: testLogger(), config: env.config });
  await runtime.start(AbortSignal.timeout(60_000));
  c = criClient(runtime.socket);
  await c.image.pullImage({ image: { image: env.busybox } });
  // A volume with a writable submount: plain `ro` leaves the submount writable, `rro` does not.
  volume = fs.mkdtempSync(path.join(env.dirs.dir, 'vol-'));
  fs.mkdirSync(path.join(volume, 'sub'));
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(volume, 'sub')]);
  fs.writeFileSync(path.join(volume, 'sub', 'f'), 'inside\n');
});
after(async () => {
  c?.close();
  await stopRuntimeAndPods(runtime);
  // The volume's submount goes before the pod environment's leak check looks at the mounts under its dir.
  if (volume) execFileSync('umount', [path.join(volume, 'sub')]);
  await env?.cleanup();
  for (const f of cleanups) f();
});

const rroMount = (containerPath: string, extra: PartialMessage<cri.Mount> = {}): PartialMessage<cri.Mount> =>
  ({ containerPath, hostPath: volume, readonly: true, recursiveReadOnly: true, propagation: PRIVATE, ...extra });

for (const handler of ['runc', 'crun']) {
  test(`${handler}: a recursive read-only bind makes its submounts read-only too; plain read-only does not`, async () => {
    const handlers = (await c.runtime.status({})).runtimeHandlers;
    assert.equal(handlers.find(h => h.name === handler)?.features?.recursiveReadOnlyMounts, true, `advertised for ${handler}`);
    const podCfg = podConfig(`rro-${handler}`);
    const pod = (await c.runtime.runPodSandbox({ config: podCfg, runtimeHandler: handler })).podSandboxId;
    const id = await runContainer(c, pod, podCfg, containerConfig(`rro-${handler}`, env.busybox, 'exec sleep 1000', {
      mounts: [rroMount('/rro'), { containerPath: '/ro', hostPath: volume, readonly: true, propagation: PRIVATE }],
    }));
    if (handler === 'crun') assert.equal(spawnSync('crun', ['--root', '/run/containerd/runc/k8s.io', 'state', id]).status, 0, 'crun runs the container');
    const exec = (script: string) => c.runtime.execSync({ containerId: id, cmd: ['/bin/sh', '-c', script], timeout: 10n });
    assert.equal((await exec('cat /rro/sub/f')).stdout.toString(), 'inside\n');
    const refused = await exec('touch /rro/sub/x');
    assert.notEqual(refused.exitCode, 0);
    assert.match(refused.stderr.toString(), /Read-only file system/);
    assert.notEqual((await exec('touch /rro/x')).exitCode, 0);
    const written = path.join(volume, 'sub', `x-${handler}`);
    assert.equal((await exec(`touch /ro/sub/x-${handler}`)).exitCode, 0, 'plain ro leaves the submount writable');
    assert.equal(fs.existsSync(written), true);
    // CRI: recursive read-only must be read-only.
    await assert.rejects(c.runtime.createContainer({ podSandboxId: pod, sandboxConfig: podCfg,
      config: containerConfig('rro-rw', env.busybox, 'true', { mounts: [rroMount('/rro', { readonly: false })] }) }),
    (e: { code: number; details: string }) => e.code === status.INVALID_ARGUMENT && e.details.includes('/rro'));
    await c.runtime.stopPodSandbox({ podSandboxId: pod });
    await c.runtime.removePodSandbox({ podSandboxId: pod });
  });
}

test('a handler whose binary declares no features: rro is not advertised, and asking for it is refused, leaving nothing behind', async () => {
  const handlers = (await c.runtime.status({})).runtimeHandlers;
  assert.deepEqual(handlers.find(h => h.name === 'old')?.features, { recursiveReadOnlyMounts: false, userNamespaces: false });
  const podCfg = podConfig('rro-old');
  const pod = (await c.runtime.runPodSandbox({ config: podCfg, runtimeHandler: 'old' })).podSandboxId;
  const peek = await containerdPeek(path.join(env.dirs.dir, 'cs', 'containerd.sock'));
  const containerdContainers = async () => (await peek.containers.list({ filters: [] })).containers.length;
  const before = await containerdContainers();
  await assert.rejects(c.runtime.createContainer({ podSandboxId: pod, sandboxConfig: podCfg,
    config: containerConfig('rro-old', env.busybox, 'true', { mounts: [rroMount('/rro')] }) }),
  (e: { code: number; details: string }) => e.code === status.FAILED_PRECONDITION && e.details.includes('rro'));
  assert.deepEqual((await c.runtime.listContainers({ filter: { podSandboxId: pod } })).containers, []);
  assert.equal(await containerdContainers(), before);
  peek.close();
  // Without rro the same container runs there.
  const id = await runContainer(c, pod, podCfg, containerConfig('rro-old', env.busybox, 'exec sleep 1000', {
    mounts: [{ containerPath: '/ro', hostPath: volume, readonly: true, propagation: PRIVATE }],
  }));
  assert.equal((await c.runtime.execSync({ containerId: id, cmd: ['/bin/cat', '/ro/sub/f'], timeout: 10n })).stdout.toString(), 'inside\n');
  await c.runtime.stopPodSandbox({ podSandboxId: pod });
  await c.runtime.removePodSandbox({ podSandboxId: pod });
});
