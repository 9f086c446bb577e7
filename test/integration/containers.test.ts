// Containers as a kubelet drives them: real runc containers from busybox images, CRI logs, exec,
// exits — checked from inside the container and on the host.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { cri, type PartialMessage } from '@crikit/api';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { criClient, type CriClient } from '../support/cri-client.js';
import { containerdPeek } from '../support/containerd-peek.js';
import { stopRuntimeAndPods } from '../support/pod-cleanup.js';
import { containerConfig, eventually, exited, logFile, logLines, runContainer } from '../support/container-fixture.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';
import { testLogger } from '../support/test-logger.js';

let env: PodTestEnv;
let logDir: string;
let runtime: CriRuntime;
let c: CriClient;
let image: string;
let pod: string;
let podCfg: PartialMessage<cri.PodSandboxConfig>;

const exec = async (id: string, cmd: string[], timeout = 10) => c.runtime.execSync({ containerId: id, cmd, timeout: BigInt(timeout) });
const sh = async (id: string, script: string) => (await exec(id, ['/bin/sh', '-c', script])).stdout.toString().trim();

before(async () => {
  env = await podTestEnv(79, { logging: { maxLineBytes: 64 } });
  image = env.busybox;
  logDir = path.join(env.dirs.dir, 'pod-logs');
  runtime = createRuntime({ logger: testLogger(), config: env.config });
  await runtime.start(AbortSignal.timeout(60_000));
  c = criClient(runtime.socket);
  await c.image.pullImage({ image: { image } });
  podCfg = podConfig('workload', { logDirectory: logDir });
  pod = (await c.runtime.runPodSandbox({ config: podCfg })).podSandboxId;
});
after(async () => {
  c?.close();
  await stopRuntimeAndPods(runtime);
  await env?.cleanup();
});

const run = (name: string, script: string, extra: PartialMessage<cri.ContainerConfig> = {}) =>
  runContainer(c, pod, podCfg, containerConfig(name, image, script, extra));

describe('a running container', () => {
  test('runs, logs both streams in the CRI format, and answers ExecSync', async () => {
    const id = await run('logger', 'echo out; echo err >&2; exec sleep 1000');
    const s = (await c.runtime.containerStatus({ containerId: id })).status!;
    assert.equal(s.state, cri.ContainerState.CONTAINER_RUNNING);
    assert.ok(s.startedAt > 0n);
    assert.equal(s.logPath, logFile(logDir, 'logger'));
    const lines = await eventually(async () => { const l = logLines(logFile(logDir, 'logger')); return l.length >= 2 ? l : undefined; }, 'two log lines');
    assert.deepEqual(lines.map(l => [l.stream, l.tag, l.text]).sort(), [['stderr', 'F', 'err'], ['stdout', 'F', 'out']]);
    assert.match(lines[0]!.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);

    const hi = await exec(id, ['/bin/echo', 'hi']);
    assert.equal(hi.stdout.toString(), 'hi\n');
    assert.equal(hi.exitCode, 0);
    assert.equal((await exec(id, ['/bin/sh', '-c', 'echo oops >&2; exit 3'])).exitCode, 3);
    assert.equal((await exec(id, ['/bin/sh', '-c', 'echo oops >&2; exit 3'])).stderr.toString(), 'oops\n');
    await assert.rejects(exec(id, ['/bin/sleep', '30'], 1), (e: { code: number }) => e.code === status.DEADLINE_EXCEEDED);
    // A command the container does not have is the caller's mistake, named as such (runc's text kept).
    await assert.rejects(exec(id, ['/nonexistent']), (e: { code: number; details: string }) =>
      e.code === status.NOT_FOUND && /cmd\[0\] "\/nonexistent" not found in the container .*no such file or directory/.test(e.details));
    const listed = await c.runtime.listContainers({ filter: { podSandboxId: pod, labelSelector: { container: 'logger' } } });
    assert.deepEqual(listed.containers.map(x => x.id), [id]);
  });

  test('a line longer than the maximum line size is split into P chunks and an F end', async () => {
    const id = await run('longline', 'printf "%0150d\\n" 7; exec sleep 1000');
    const lines = await eventually(async () => { const l = logLines(logFile(logDir, 'longline')); return l.some(x => x.tag === 'F') ? l : undefined; }, 'the long line');
    assert.deepEqual(lines.map(l => l.tag), ['P', 'P', 'F']);
    assert.equal(lines.map(l => l.text).join(''), `${'0'.repeat(149)}7`);
    await c.runtime.removeContainer({ containerId: id });
  });

  test('command, args and env merge image and CRI config as the kubelet expects', async () => {
    const id = await run('env', 'exec sleep 1000', { envs: [{ key: 'FROM_CRI', value: Buffer.from('1') }, { key: 'SHARED', value: Buffer.from('cri') }], workingDir: '/tmp' });
    const env = await sh(id, 'env');
    assert.match(env, /^FROM_IMAGE=yes$/m);
    assert.match(env, /^FROM_CRI=1$/m);
    assert.match(env, /^SHARED=cri$/m, 'CRI wins over the image');
    assert.match(env, /^HOSTNAME=workload$/m);
    assert.equal(await sh(id, 'pwd'), '/tmp');
    await c.runtime.removeContainer({ containerId: id });
  });
});

describe('logs and events', () => {
  test('ReopenContainerLog after the kubelet rotates the file: new lines go to the new file', async () => {
    const id = await run('rotated', 'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.1; done');
    const file = logFile(logDir, 'rotated');
    await eventually(async () => (logLines(file).length >= 2 ? true : undefined), 'lines before rotation');
    fs.renameSync(file, `${file}.1`);
    await c.runtime.reopenContainerLog({ containerId: id });
    await eventually(async () => (logLines(file).length >= 2 ? true : undefined), 'lines after rotation');
    const before = logLines(`${file}.1`).map(l => Number(l.text.split(' ')[1]));
    const after = logLines(file).map(l => Number(l.text.split(' ')[1]));
    assert.equal(after[0], before[before.length - 1]! + 1, 'no line lost or repeated across the rotation');
    await c.runtime.stopContainer({ containerId: id, timeout: 0n });
    await assert.rejects(c.runtime.reopenContainerLog({ containerId: id }), (e: { code: number }) => e.code === status.FAILED_PRECONDITION);
    await c.runtime.removeContainer({ containerId: id });
  });

  test('GetContainerEvents streams created, started, stopped and deleted with the pod\'s statuses', async () => {
    const events: cri.ContainerEventResponse[] = [];
    const stream = c.raw.runtime.getContainerEvents(cri.GetEventsRequest.fromPartial({}));
    stream.on('data', (e: cri.ContainerEventResponse) => events.push(e));
    stream.on('error', () => {});
    await new Promise(r => setTimeout(r, 200));
    const id = await run('evented', 'exit 0');
    await exited(c, id);
    await c.runtime.removeContainer({ containerId: id });
    const mine = await eventually(async () => {
      const e = events.filter(x => x.containerId === id);
      return e.length >= 4 ? e : undefined;
    }, 'four events');
    stream.cancel();
    assert.deepEqual(mine.map(e => e.containerEventType), [
      cri.ContainerEventType.CONTAINER_CREATED_EVENT, cri.ContainerEventType.CONTAINER_STARTED_EVENT,
      cri.ContainerEventType.CONTAINER_STOPPED_EVENT, cri.ContainerEventType.CONTAINER_DELETED_EVENT,
    ]);
    assert.equal(mine[0]!.podSandboxStatus?.id, pod);
    assert.ok(mine[2]!.containersStatuses.some(st => st.id === id && st.state === cri.ContainerState.CONTAINER_EXITED));
  });
});

describe('security and resources, seen from inside', () => {
  test('run as a user from the image\'s /etc/passwd, with its groups', async () => {
    const byName = await run('byname', 'exec sleep 1000', { linux: { securityContext: { runAsUsername: 'app', supplementalGroups: [3000n] } } });
    assert.equal(await sh(byName, 'id -u'), '1000');
    assert.deepEqual((await sh(byName, 'id -G')).split(' ').sort(), ['1000', '2000', '3000']);
    const user = (await c.runtime.containerStatus({ containerId: byName })).status!.user?.linux;
    assert.deepEqual({ uid: user?.uid, gid: user?.gid, groups: user?.supplementalGroups.map(Number).sort() }, { uid: 1000n, gid: 1000n, groups: [1000, 2000, 3000] });
    const byUid = await run('byuid', 'exec sleep 1000', { linux: { securityContext: { runAsUser: { value: 4242n }, runAsGroup: { value: 4343n } } } });
    assert.equal(await sh(byUid, 'id -u'), '4242');
    assert.equal(await sh(byUid, 'id -g'), '4343');
    for (const id of [byName, byUid]) await c.runtime.removeContainer({ containerId: id });
    await assert.rejects(c.runtime.createContainer({ podSandboxId: pod, sandboxConfig: podCfg,
      config: containerConfig('nouser', image, 'true', { linux: { securityContext: { runAsUsername: 'nobody-here' } } }) }),
      (e: { code: number; details: string }) => e.code === status.INVALID_ARGUMENT && e.details.includes('nobody-here'));
    // The failed create undid itself: the name is free again and no snapshot or containerd container is left.
    const peek = await containerdPeek(path.join(env.dirs.dir, 'cs', 'containerd.sock'));
    try {
      const before = (await peek.containers.list({ filters: [] })).containers.length;
      const retried = await run('nouser', 'exec sleep 1000');
      assert.equal((await peek.containers.list({ filters: [] })).containers.length, before + 1);
      await c.runtime.removeContainer({ containerId: retried });
      const active: string[] = [];
      for await (const page of peek.snapshots.list({ snapshotter: 'overlayfs', filters: [] })) active.push(...page.info.filter(i => i.kind === 2).map(i => i.name));
      const known = new Set([pod, ...(await c.runtime.listContainers({})).containers.map(x => x.id)]);
      assert.deepEqual(active.filter(k => !known.has(k)), [], 'no snapshot without a container');
    } finally {
      peek.close();
    }
  });

  test('capabilities, read-only rootfs and masked paths', async () => {
    const id = await run('locked', 'exec sleep 1000', { linux: { securityContext: {
      capabilities: { dropCapabilities: ['ALL'], addCapabilities: ['NET_ADMIN'] }, readonlyRootfs: true,
      maskedPaths: ['/proc/timer_list'], readonlyPaths: ['/proc/sys'],
    } } });
    assert.equal(await sh(id, 'grep CapEff /proc/self/status'), 'CapEff:\t0000000000001000', 'only NET_ADMIN (bit 12)');
    assert.notEqual((await exec(id, ['/bin/touch', '/newfile'])).exitCode, 0, 'the rootfs is read-only');
    assert.equal(await sh(id, '[ -c /proc/timer_list ] && echo masked'), 'masked', 'timer_list is masked by /dev/null');
    assert.equal(await sh(id, 'grep Seccomp: /proc/self/status'), 'Seccomp:\t0', 'no seccomp unless asked (containerd default)');
    await c.runtime.removeContainer({ containerId: id });
  });

  test('resources land in the cgroup; UpdateContainerResources changes them', async () => {
    const id = await run('limited', 'exec sleep 1000', { linux: { resources: { memoryLimitInBytes: 64n << 20n, cpuShares: 512n, cpuQuota: 50_000n, cpuPeriod: 100_000n } } });
    const pid = JSON.parse((await c.runtime.containerStatus({ containerId: id, verbose: true })).info.info!).pid as number;
    const read = (controller: string, file: string) => fs.readFileSync(cgroupFile(pid, controller, file), 'utf8').trim();
    assert.equal(read('memory', 'memory.limit_in_bytes'), String(64 << 20));
    assert.equal(read('cpu', 'cpu.shares'), '512');
    assert.equal(read('cpu', 'cpu.cfs_quota_us'), '50000');
    await c.runtime.updateContainerResources({ containerId: id, linux: { memoryLimitInBytes: 128n << 20n, cpuShares: 256n } });
    assert.equal(read('memory', 'memory.limit_in_bytes'), String(128 << 20));
    assert.equal(read('cpu', 'cpu.shares'), '256');
    assert.equal((await c.runtime.containerStatus({ containerId: id })).status!.resources?.linux?.memoryLimitInBytes, 128n << 20n);
    await c.runtime.removeContainer({ containerId: id });
  });

  test('a host directory mounted with propagation, and a device', async () => {
    const shared = fs.mkdtempSync(path.join(env.dirs.dir, 'shared-'));
    fs.writeFileSync(path.join(shared, 'from-host'), 'hello\n');
    // Host-to-container propagation needs a shared (or slave) host mount, as on a systemd node.
    execFileSync('mount', ['--bind', shared, shared]);
    execFileSync('mount', ['--make-shared', shared]);
    const id = await run('mounts', 'exec sleep 1000', {
      mounts: [{ containerPath: '/data', hostPath: shared, readonly: true, propagation: cri.MountPropagation.PROPAGATION_HOST_TO_CONTAINER }],
      devices: [{ hostPath: '/dev/null', containerPath: '/dev/mynull', permissions: 'rwm' }],
    });
    assert.equal(await sh(id, 'cat /data/from-host'), 'hello');
    assert.notEqual((await exec(id, ['/bin/touch', '/data/x'])).exitCode, 0, 'read-only mount');
    assert.equal(await sh(id, 'grep " /data " /proc/self/mountinfo | grep -o "master:[0-9]*" | head -c 7'), 'master:', 'rslave propagation');
    assert.equal(await sh(id, 'echo x > /dev/mynull && echo ok'), 'ok');
    await c.runtime.removeContainer({ containerId: id });
    execFileSync('umount', [shared]);
  });
});

describe('exits', () => {
  test('exit codes and reasons: Completed, Error, OOMKilled', async () => {
    const ok = await run('ok', 'exit 0');
    const bad = await run('bad', 'exit 7');
    const oom = await run('oom', 'dd if=/dev/zero of=/dev/null bs=96M count=1', { linux: { resources: { memoryLimitInBytes: 32n << 20n } } });
    assert.deepEqual(pick(await exited(c, ok)), { exitCode: 0, reason: 'Completed' });
    assert.deepEqual(pick(await exited(c, bad)), { exitCode: 7, reason: 'Error' });
    assert.deepEqual(pick(await exited(c, oom)), { exitCode: 137, reason: 'OOMKilled' });
    for (const id of [ok, bad, oom]) await c.runtime.removeContainer({ containerId: id });
  });

  test('StopContainer: SIGTERM, and SIGKILL once the timeout passes; stop and remove are idempotent', async () => {
    const polite = await run('polite', 'trap "exit 0" TERM; while true; do sleep 0.1; done');
    const stubborn = await run('stubborn', 'trap "" TERM; while true; do sleep 0.1; done');
    await new Promise(r => setTimeout(r, 300));
    await c.runtime.stopContainer({ containerId: polite, timeout: 10n });
    assert.deepEqual(pick((await c.runtime.containerStatus({ containerId: polite })).status!), { exitCode: 0, reason: 'Completed' });
    await c.runtime.stopContainer({ containerId: stubborn, timeout: 1n });
    assert.deepEqual(pick((await c.runtime.containerStatus({ containerId: stubborn })).status!), { exitCode: 137, reason: 'Error' });
    await c.runtime.stopContainer({ containerId: stubborn, timeout: 1n });
    for (const id of [polite, stubborn]) {
      await c.runtime.removeContainer({ containerId: id });
      await c.runtime.removeContainer({ containerId: id });
    }
    await c.runtime.stopContainer({ containerId: 'f'.repeat(64), timeout: 1n });
    await assert.rejects(c.runtime.containerStatus({ containerId: polite }), (e: { code: number }) => e.code === status.NOT_FOUND);
  });
});

/** A cgroup v1 file of the cgroup `pid` is in, for `controller`. */
function cgroupFile(pid: number, controller: string, file: string): string {
  const line = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find(l => l.split(':')[1]!.split(',').includes(controller))!;
  const mount = fs.readdirSync('/sys/fs/cgroup').find(d => d.split(',').includes(controller))!;
  return path.join('/sys/fs/cgroup', mount, line.split(':')[2]!, file);
}

function pick(s: cri.ContainerStatus): { exitCode: number; reason: string } {
  return { exitCode: s.exitCode, reason: s.reason };
}
