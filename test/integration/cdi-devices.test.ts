// CDI devices (issue 14), against real containerd and runc through the CRI socket: specs in
// private dirs, asked for by the CDI_devices field and by cdi.k8s.io/ annotations; the env, device
// node, mount and hook edits seen from inside the container and on the host; an unknown device
// refused before anything is made.
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
let work: string;

/** Two spec dirs: a YAML spec with spec-level and device edits in the first, a JSON spec in the second. */
function writeSpecs(root: string): string[] {
  const etc = path.join(root, 'etc-cdi');
  const run = path.join(root, 'run-cdi');
  const payload = path.join(root, 'payload');
  for (const d of [etc, run, payload]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(payload, 'hello'), 'from the host\n');
  fs.writeFileSync(path.join(etc, 'test-dev.yaml'), [
    'cdiVersion: "0.6.0"',
    'kind: crikit.test/dev',
    'containerEdits:',
    '  env: ["CDI_SPEC=common"]',
    'devices:',
    '  - name: nulldev',
    '    containerEdits:',
    '      env: ["FOO=bar"]',
    '      deviceNodes:',
    '        - path: /dev/cdi-test',
    '          hostPath: /dev/null',
    '          permissions: rw',
    '      mounts:',
    `        - hostPath: ${payload}`,
    '          containerPath: /cdi-payload',
    '          options: [ro, nosuid, nodev, bind]',
    '      hooks:',
    '        - hookName: createRuntime',
    '          path: /bin/sh',
    `          args: [sh, -c, "cat > ${path.join(root, 'hook-state.json')}"]`,
    // /dev/loop-control (c 10:237) is outside the default device rules: only the CDI rule lets it open.
    '  - name: loopctl-rw',
    '    containerEdits:',
    '      deviceNodes: [{ path: /dev/cdi-loopctl, hostPath: /dev/loop-control, permissions: rw }]',
    '  - name: loopctl-m',
    '    containerEdits:',
    '      deviceNodes: [{ path: /dev/cdi-loopctl, hostPath: /dev/loop-control, permissions: m }]',
  ].join('\n') + '\n');
  fs.writeFileSync(path.join(run, 'test-json.json'), JSON.stringify({
    cdiVersion: '0.5.0', kind: 'crikit.test/json',
    devices: [{ name: 'second', containerEdits: { env: ['SECOND=1'] } }],
  }));
  return [etc, run];
}

before(async () => {
  env = await podTestEnv(73);
  work = path.join(env.dirs.dir, 'cdi');
  const cdiSpecDirs = writeSpecs(work);
  runtime = createRuntime({ logger: testLogger(), config: { ...env.config, container: { cdiSpecDirs } } });
  await runtime.start(AbortSignal.timeout(60_000));
  c = criClient(runtime.socket);
  await c.image.pullImage({ image: { image: env.busybox } });
  podCfg = podConfig('cdi-devices');
  pod = (await c.runtime.runPodSandbox({ config: podCfg })).podSandboxId;
});
after(async () => {
  c?.close();
  await stopRuntimeAndPods(runtime);
  await env?.cleanup();
});

const sh = async (id: string, script: string): Promise<string> => {
  const out = await c.runtime.execSync({ containerId: id, cmd: ['/bin/sh', '-c', script], timeout: 10n });
  assert.equal(out.exitCode, 0, `${script}: ${Buffer.from(out.stderr).toString()}`);
  return Buffer.from(out.stdout).toString();
};

test('a CDI_devices device: its env, device node, mount and hook, and its spec\'s env', async () => {
  const id = await runContainer(c, pod, podCfg, containerConfig('cdi-field', env.busybox, 'exec sleep 1000', {
    CDIDevices: [{ name: 'crikit.test/dev=nulldev' }, { name: 'crikit.test/dev=loopctl-rw' }],
  }));
  assert.equal(await sh(id, 'echo "$FOO $CDI_SPEC ${SECOND:-unset}"'), 'bar common unset\n');
  // The device cgroup allows c 10:237 for reading and writing.
  assert.equal(await sh(id, 'exec 3<>/dev/cdi-loopctl && echo opened'), 'opened\n');
  // busybox stat: %F is the file type, %t/%T the device numbers in hex (/dev/null is 1:3).
  assert.equal(await sh(id, 'stat -c "%F %t:%T" /dev/cdi-test'), 'character special file 1:3\n');
  assert.equal(await sh(id, 'echo data > /dev/cdi-test && echo written'), 'written\n');
  assert.equal(await sh(id, 'cat /cdi-payload/hello'), 'from the host\n');
  assert.notEqual((await c.runtime.execSync({ containerId: id, cmd: ['/bin/touch', '/cdi-payload/new'], timeout: 10n })).exitCode, 0, 'the mount is read-only');
  // runc ran the createRuntime hook on the host with this container's state on stdin.
  assert.equal((JSON.parse(fs.readFileSync(path.join(work, 'hook-state.json'), 'utf8')) as { id: string }).id, id);
  await c.runtime.removeContainer({ containerId: id });
});

test('the cdi.k8s.io/ annotation form, from both spec dirs; a device cgroup rule with permissions m only', async () => {
  const id = await runContainer(c, pod, podCfg, containerConfig('cdi-annotation', env.busybox, 'exec sleep 1000', {
    annotations: { 'cdi.k8s.io/test-plugin_dev0': 'crikit.test/json=second', 'cdi.k8s.io/test-plugin_dev1': 'crikit.test/dev=loopctl-m' },
  }));
  assert.equal(await sh(id, 'echo "${SECOND:-unset} ${FOO:-unset} $CDI_SPEC"; test -e /dev/cdi-test && echo has-node || echo no-node'), '1 unset common\nno-node\n');
  // Permissions m only: the node exists, but the device cgroup refuses to open it.
  const open = await c.runtime.execSync({ containerId: id, cmd: ['/bin/sh', '-c', 'test -c /dev/cdi-loopctl && exec 3<>/dev/cdi-loopctl'], timeout: 10n });
  assert.notEqual(open.exitCode, 0);
  assert.match(Buffer.from(open.stderr).toString(), /Operation not permitted/);
  await c.runtime.removeContainer({ containerId: id });
});

test('an unknown or malformed CDI device is refused before anything is made', async () => {
  const peek = await containerdPeek(path.join(env.dirs.dir, 'cs', 'containerd.sock'));
  try {
    const before = (await peek.containers.list({ filters: [] })).containers.length;
    await assert.rejects(c.runtime.createContainer({ podSandboxId: pod, sandboxConfig: podCfg,
      config: containerConfig('cdi-unknown', env.busybox, 'true', { CDIDevices: [{ name: 'crikit.test/dev=nulldev' }, { name: 'crikit.test/dev=missing' }] }) }),
    (e: { code: number; details: string }) => e.code === status.NOT_FOUND && /unresolvable CDI device "crikit\.test\/dev=missing"/.test(e.details));
    await assert.rejects(c.runtime.createContainer({ podSandboxId: pod, sandboxConfig: podCfg,
      config: containerConfig('cdi-unknown-kind', env.busybox, 'true', { annotations: { 'cdi.k8s.io/x': 'other.vendor/gpu=0' } }) }),
    (e: { code: number; details: string }) => e.code === status.NOT_FOUND && /"other\.vendor\/gpu=0" \(no spec of kind other\.vendor\/gpu\)/.test(e.details));
    await assert.rejects(c.runtime.createContainer({ podSandboxId: pod, sandboxConfig: podCfg,
      config: containerConfig('cdi-malformed', env.busybox, 'true', { CDIDevices: [{ name: 'gpu0' }] }) }),
    (e: { code: number; details: string }) => e.code === status.INVALID_ARGUMENT && /CDI_devices\[0\]\.name: "gpu0" is not a fully-qualified CDI device name/.test(e.details));
    assert.deepEqual((await c.runtime.listContainers({ filter: { podSandboxId: pod } })).containers, []);
    assert.equal((await peek.containers.list({ filters: [] })).containers.length, before, 'no containerd container was made');
    // The name is free again: the same container with a known device is created.
    const id = await runContainer(c, pod, podCfg, containerConfig('cdi-unknown', env.busybox, 'exec sleep 1000', { CDIDevices: [{ name: 'crikit.test/json=second' }] }));
    assert.equal(await sh(id, 'echo $SECOND'), '1\n');
    await c.runtime.removeContainer({ containerId: id });
  } finally {
    peek.close();
  }
});
