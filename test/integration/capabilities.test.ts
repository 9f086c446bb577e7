// Privileged containers and capabilities on a host whose bounding set is reduced (this VM withholds
// CAP_SYS_RESOURCE; a second crikitd runs under `setpriv --bounding-set -sys_time`), mount
// propagation with privileged containers, seccomp ignored for privileged ones, supplemental-groups
// policy — each checked from inside real runc containers through the CRI socket.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { cri, type PartialMessage } from '@crikit/api';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { containerdPeek } from '../support/containerd-peek.js';
import { containerConfig, eventually, runContainer } from '../support/container-fixture.js';
import { criClient, type CriClient } from '../support/cri-client.js';
import { startCrikitd, type RunningCrikitd } from '../support/crikitd.js';
import { stopDaemonAndPods, stopRuntimeAndPods } from '../support/pod-cleanup.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';
import { testLogger } from '../support/test-logger.js';

const P = cri.MountPropagation;
const CAP_CHOWN = 0n;
const CAP_SYS_TIME = 25n;

/** A capability mask line (`CapBnd`, `CapEff`…) of a /proc/<pid>/status text. */
const capLine = (text: string, key: string): string => new RegExp(`^${key}:\\s*([0-9a-f]+)$`, 'm').exec(text)![1]!;
const hex = (mask: bigint): string => mask.toString(16).padStart(16, '0');

/** A privileged pod: the only kind that may hold privileged containers. */
const privilegedPod = (name: string): PartialMessage<cri.PodSandboxConfig> => podConfig(name, {
  linux: {
    cgroupParent: '/crikit-test',
    securityContext: { privileged: true, namespaceOptions: { network: cri.NamespaceMode.POD, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD } },
  },
});
/** A container security context with its own pid namespace, so /proc/1 is the container's process (not the pause). */
const secured = (sc: PartialMessage<cri.LinuxContainerSecurityContext>): PartialMessage<cri.ContainerConfig> => ({
  linux: { securityContext: { namespaceOptions: { network: cri.NamespaceMode.POD, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD }, ...sc } },
});
const privileged = (extra: PartialMessage<cri.LinuxContainerSecurityContext> = {}): PartialMessage<cri.ContainerConfig> => secured({ privileged: true, ...extra });

describe('in-process crikit (this host\'s own bounding set)', () => {
  let env: PodTestEnv;
  let runtime: CriRuntime;
  let c: CriClient;
  let pod: string;
  let podCfg: PartialMessage<cri.PodSandboxConfig>;
  const ownBounding = capLine(fs.readFileSync('/proc/self/status', 'utf8'), 'CapBnd');

  const exec = (id: string, script: string) => c.runtime.execSync({ containerId: id, cmd: ['/bin/sh', '-c', script], timeout: 10n });
  const sh = async (id: string, script: string) => (await exec(id, script)).stdout.toString().trim();
  const run = (name: string, extra: PartialMessage<cri.ContainerConfig>, script = 'exec sleep 1000') =>
    runContainer(c, pod, podCfg, containerConfig(name, env.busybox, script, extra));

  before(async () => {
    env = await podTestEnv(85);
    runtime = createRuntime({ logger: testLogger(), config: env.config });
    await runtime.start(AbortSignal.timeout(60_000));
    c = criClient(runtime.socket);
    await c.image.pullImage({ image: { image: env.busybox } });
    podCfg = privilegedPod('caps');
    pod = (await c.runtime.runPodSandbox({ config: podCfg })).podSandboxId;
  });
  after(async () => {
    c?.close();
    await stopRuntimeAndPods(runtime);
    await env?.cleanup();
  });

  test('a privileged container holds exactly crikitd\'s bounding set, with host devices, rw /sys and no masked paths', async () => {
    const id = await run('privileged', privileged());
    const st = await sh(id, 'cat /proc/1/status');
    assert.equal(capLine(st, 'CapEff'), ownBounding);
    assert.equal(capLine(st, 'CapBnd'), ownBounding);
    assert.match(st, /^Seccomp:\s+0$/m);
    assert.match(await sh(id, 'awk \'$5 == "/sys" { print $6 }\' /proc/self/mountinfo'), /^rw\b/);
    assert.equal(await sh(id, 'grep -c " /proc/sys " /proc/self/mountinfo || true'), '0', '/proc/sys is not remounted read-only');
    const hostDevice = fs.readdirSync('/dev').find(d => d.startsWith('loop') || d === 'kmsg' || d === 'mem');
    assert.ok(hostDevice, 'the host has a /dev/loop*, /dev/kmsg or /dev/mem to look for');
    assert.equal(await sh(id, `[ -e /dev/${hostDevice} ] && echo yes`), 'yes', `host device /dev/${hostDevice} is in the container`);
    // Verbose status names the process state in words, as containerd does.
    const info = JSON.parse((await c.runtime.podSandboxStatus({ podSandboxId: pod, verbose: true })).info.info!) as { processStatus: string };
    assert.equal(info.processStatus, 'running');
    const cinfo = JSON.parse((await c.runtime.containerStatus({ containerId: id, verbose: true })).info.info!) as { processStatus: string };
    assert.equal(cinfo.processStatus, 'running');
    await c.runtime.removeContainer({ containerId: id });
  });

  test('add: [ALL], drop: [CHOWN] is the bounding set without CHOWN', async () => {
    const id = await run('all-but-chown', secured({ capabilities: { addCapabilities: ['ALL'], dropCapabilities: ['CHOWN'] } }));
    const expected = hex(BigInt(`0x${ownBounding}`) & ~(1n << CAP_CHOWN));
    assert.equal(capLine(await sh(id, 'cat /proc/1/status'), 'CapEff'), expected);
    assert.notEqual((await exec(id, 'touch /f && chown 1234 /f')).exitCode, 0, 'chown is refused');
    await c.runtime.removeContainer({ containerId: id });
  });

  test('rslave and rshared propagation with privileged containers, both ways', async () => {
    const shared = fs.mkdtempSync(path.join(env.dirs.dir, 'prop-'));
    execFileSync('mount', ['--bind', shared, shared]);
    execFileSync('mount', ['--make-shared', shared]);
    const slave = await run('rslave', { ...privileged(), mounts: [{ containerPath: '/vol', hostPath: shared, propagation: P.PROPAGATION_HOST_TO_CONTAINER }] });
    const both = await run('rshared', { ...privileged(), mounts: [{ containerPath: '/vol', hostPath: shared, propagation: P.PROPAGATION_BIDIRECTIONAL }] });

    // Host → container: a mount made on the host after the containers started shows in both.
    fs.mkdirSync(path.join(shared, 'from-host'));
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(shared, 'from-host')]);
    fs.writeFileSync(path.join(shared, 'from-host', 'f'), 'host\n');
    for (const id of [slave, both]) assert.equal(await sh(id, 'cat /vol/from-host/f'), 'host');

    // Container → host: a mount made in the rshared container shows on the host (and in the rslave one).
    assert.equal((await exec(both, 'mkdir -p /vol/from-ctr && mount -t tmpfs tmpfs /vol/from-ctr && echo ctr > /vol/from-ctr/f')).exitCode, 0);
    const mountedOnHost = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some(l => l.split(' ')[4] === path.join(shared, 'from-ctr'));
    await eventually(async () => (mountedOnHost() ? true : undefined), 'the container\'s mount on the host', 5_000);
    assert.equal(fs.readFileSync(path.join(shared, 'from-ctr', 'f'), 'utf8'), 'ctr\n');
    assert.equal(await sh(slave, 'cat /vol/from-ctr/f'), 'ctr');

    // rslave does not propagate back: a mount in that container stays there.
    assert.equal((await exec(slave, 'mkdir -p /vol/from-slave && mount -t tmpfs tmpfs /vol/from-slave && echo s > /vol/from-slave/f')).exitCode, 0);
    assert.equal(fs.existsSync(path.join(shared, 'from-slave', 'f')), false, 'an rslave mount does not reach the host');

    for (const id of [slave, both]) await c.runtime.removeContainer({ containerId: id });
    execFileSync('umount', ['--recursive', '--lazy', shared]);
  });

  test('a privileged container ignores its seccomp profile; an unprivileged one is held to it', async () => {
    const profile = path.join(env.dirs.dir, 'no-sethostname.json');
    // EXDEV, so the refusal is told apart from a missing capability (EPERM).
    fs.writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['sethostname'], action: 'SCMP_ACT_ERRNO', errnoRet: 18 }] }));
    const seccomp = { profileType: cri.SecurityProfile_ProfileType.Localhost, localhostRef: profile };

    const free = await run('seccomp-privileged', privileged({ seccomp }));
    const freed = await exec(free, 'hostname caps-renamed && hostname');
    assert.equal(freed.exitCode, 0, freed.stderr.toString());
    assert.equal(freed.stdout.toString().trim(), 'caps-renamed');
    assert.match(await sh(free, 'grep Seccomp: /proc/1/status'), /^Seccomp:\s+0$/);

    const held = await run('seccomp-held', secured({ seccomp, capabilities: { addCapabilities: ['SYS_ADMIN'], dropCapabilities: [] } }));
    const refused = await exec(held, 'hostname caps-blocked');
    assert.notEqual(refused.exitCode, 0);
    assert.match(refused.stderr.toString(), /cross-device/i, 'sethostname fails with the profile\'s errno');
    assert.match(await sh(held, 'grep Seccomp: /proc/1/status'), /^Seccomp:\s+2$/);
    for (const id of [free, held]) await c.runtime.removeContainer({ containerId: id });
  });

  test('supplemental groups policy: Merge adds the image\'s /etc/group memberships, Strict does not', async () => {
    const groups = (policy: cri.SupplementalGroupsPolicy) => secured({ runAsUsername: 'app', supplementalGroups: [3000n], supplementalGroupsPolicy: policy });
    const merge = await run('groups-merge', groups(cri.SupplementalGroupsPolicy.Merge));
    const strict = await run('groups-strict', groups(cri.SupplementalGroupsPolicy.Strict));
    assert.deepEqual((await sh(merge, 'id -G')).split(' ').sort(), ['1000', '2000', '3000']);
    assert.deepEqual((await sh(strict, 'id -G')).split(' ').sort(), ['1000', '3000']);
    const user = (await c.runtime.containerStatus({ containerId: strict })).status!.user?.linux;
    assert.deepEqual(user?.supplementalGroups.map(Number).sort(), [1000, 3000]);
    for (const id of [merge, strict]) await c.runtime.removeContainer({ containerId: id });
  });
});

describe('crikitd whose bounding set lacks CAP_SYS_TIME (setpriv)', () => {
  let env: PodTestEnv;
  let daemon: RunningCrikitd;
  let pod: string;
  let podCfg: PartialMessage<cri.PodSandboxConfig>;
  let daemonBounding: string;

  before(async () => {
    env = await podTestEnv(86);
    daemon = await startCrikitd(env.config, env.dirs.dir, [], ['setpriv', '--bounding-set', '-sys_time']);
    daemonBounding = capLine(fs.readFileSync(`/proc/${daemon.proc.pid}/status`, 'utf8'), 'CapBnd');
    await daemon.client.image.pullImage({ image: { image: env.busybox } });
    podCfg = privilegedPod('nosystime');
    pod = (await daemon.client.runtime.runPodSandbox({ config: podCfg })).podSandboxId;
  });
  after(async () => {
    await stopDaemonAndPods(daemon);
    await env?.cleanup();
  });

  test('privileged and ALL get the daemon\'s set; naming CAP_SYS_TIME is INVALID_ARGUMENT and leaves nothing behind', async () => {
    assert.equal(BigInt(`0x${daemonBounding}`) & (1n << CAP_SYS_TIME), 0n, 'setpriv took CAP_SYS_TIME from crikitd');
    const c = daemon.client;
    const cap = async (id: string) => capLine((await c.runtime.execSync({ containerId: id, cmd: ['/bin/cat', '/proc/1/status'], timeout: 10n })).stdout.toString(), 'CapEff');
    const priv = await runContainer(c, pod, podCfg, containerConfig('priv', env.busybox, 'exec sleep 1000', privileged()));
    assert.equal(await cap(priv), daemonBounding);
    const all = await runContainer(c, pod, podCfg, containerConfig('all', env.busybox, 'exec sleep 1000', secured({ capabilities: { addCapabilities: ['all'] } })));
    assert.equal(await cap(all), daemonBounding);

    const peek = await containerdPeek(path.join(env.dirs.dir, 'cs', 'containerd.sock'));
    try {
      const before = (await peek.containers.list({ filters: [] })).containers.length;
      for (const name of ['SYS_TIME', 'cap_sys_time']) {
        await assert.rejects(c.runtime.createContainer({ podSandboxId: pod, sandboxConfig: podCfg,
          config: containerConfig('systime', env.busybox, 'true', secured({ capabilities: { addCapabilities: [name] } })) }),
        (e: { code: number; details: string }) => e.code === status.INVALID_ARGUMENT && e.details.includes('CAP_SYS_TIME') && e.details.includes('add_capabilities'));
      }
      assert.equal((await peek.containers.list({ filters: [] })).containers.length, before, 'no containerd container was made');
      assert.deepEqual((await c.runtime.listContainers({})).containers.map(x => x.metadata?.name).sort(), ['all', 'priv']);
      // The name was released: the same name works once the request is one the host can honour.
      const ok = await runContainer(c, pod, podCfg, containerConfig('systime', env.busybox, 'exec sleep 1000'));
      for (const id of [priv, all, ok]) await c.runtime.removeContainer({ containerId: id });
    } finally {
      peek.close();
    }
  });
});
