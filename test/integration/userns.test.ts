// Pods in a user namespace (`userns_options` mode POD) with the real runc 1.1.5, which has no idmapped
// mounts: the pause makes the namespace and its netns, containers join it, and every rootfs is a
// remapped (chowned) snapshot. What cannot be honoured is refused INVALID_ARGUMENT before anything is
// made; a crikitd restart keeps the pod, and its containers can still be created.
// The same pods on the real crun 1.8.1 (no `features` subcommand: its release and a probe at start-up
// say what it does), where a CRI mount with uid/gid mappings becomes an idmapped bind.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { cri, snapshots, type PartialMessage } from '@crikit/api';
import { containerConfig, eventually, runContainer } from '../support/container-fixture.js';
import { containerdPeek } from '../support/containerd-peek.js';
import { startCrikitd, type RunningCrikitd } from '../support/crikitd.js';
import { stopDaemonAndPods } from '../support/pod-cleanup.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';

const N = 72;
// Host ranges as a kubelet picks them (multiples of 65536), uids and gids apart to tell them from each other.
const UIDS = { containerId: 0, hostId: 65536 * N, length: 65536 };
const GIDS = { containerId: 0, hostId: 65536 * (N + 1), length: 65536 };
const POD = cri.NamespaceMode.POD;
const USERNS = { mode: POD, uids: [UIDS], gids: [GIDS] };
const FIELD = 'userns_options';

let env: PodTestEnv;
let daemon: RunningCrikitd;
let peek: Awaited<ReturnType<typeof containerdPeek>>;
let wrapperDir: string;

before(async () => {
  assert.equal(spawnSync('crun', ['--version']).status, 0, 'crun is needed for this test: apt-get install crun');
  // runc as a runtime older than 1.1 looks: everything works but `features`, so nothing is known of it.
  wrapperDir = fs.mkdtempSync('/tmp/ck-userns-old-');
  const oldRunc = path.join(wrapperDir, 'runc-without-features');
  fs.writeFileSync(oldRunc, '#!/bin/sh\n[ "$1" = features ] && { echo "unknown command features" >&2; exit 1; }\nexec runc "$@"\n', { mode: 0o755 });
  env = await podTestEnv(N, { runtimes: { handlers: { runc: {}, crun: { binaryName: 'crun' }, old: { binaryName: oldRunc } } } });
  daemon = await startCrikitd(env.config, env.dirs.dir);
  peek = await containerdPeek(path.join(env.dirs.dir, 'cs', 'containerd.sock'));
  await daemon.client.image.pullImage({ image: { image: env.busybox } });
});
after(async () => {
  peek?.close();
  await stopDaemonAndPods(daemon);
  await env?.cleanup();
  if (wrapperDir) fs.rmSync(wrapperDir, { recursive: true, force: true });
});

/** A pod config in the user namespace `userns` (mode POD with UIDS/GIDS by default). */
function usernsPod(name: string, userns: PartialMessage<cri.UserNamespace> = USERNS, extra: PartialMessage<cri.LinuxPodSandboxConfig> = {}): PartialMessage<cri.PodSandboxConfig> {
  const base = podConfig(name);
  return { ...base, linux: { ...base.linux, ...extra, securityContext: { ...base.linux!.securityContext, namespaceOptions: { ...base.linux!.securityContext!.namespaceOptions, usernsOptions: userns } } } };
}

/** A busybox container config in the user namespace `userns`, as the kubelet repeats the pod's. */
function usernsContainer(name: string, script: string, userns: PartialMessage<cri.UserNamespace> | undefined = USERNS, extra: PartialMessage<cri.ContainerConfig> = {}): PartialMessage<cri.ContainerConfig> {
  const base = containerConfig(name, env.busybox, script, extra);
  return { ...base, linux: { securityContext: { namespaceOptions: { ...base.linux!.securityContext!.namespaceOptions, usernsOptions: userns } } } };
}

async function sh(containerId: string, script: string): Promise<string> {
  const r = await daemon.client.runtime.execSync({ containerId, cmd: ['/bin/sh', '-c', script], timeout: 10n });
  assert.equal(r.exitCode, 0, `${script}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** Whitespace-separated numbers of an id map file: `0 4718592 65536`. */
const idMap = (text: string): string => text.trim().split(/\s+/).join(' ');

/** The committed remapped copies in containerd (crikit's label). */
async function remappedSnapshots(): Promise<string[]> {
  const names: string[] = [];
  for await (const page of peek.snapshots.list({ snapshotter: 'overlayfs', filters: ['labels."crikit.io/remapped-from"'] })) {
    for (const info of page.info) if (info.kind === snapshots.Kind.COMMITTED) names.push(info.name);
  }
  return names;
}

/** The overlay upper dir of a container's rootfs snapshot, where what it writes lands on the host. */
async function upperDir(key: string): Promise<string> {
  const { mounts } = await peek.snapshots.mounts({ snapshotter: 'overlayfs', key });
  const upper = mounts[0]?.options.find(o => o.startsWith('upperdir='));
  assert.ok(upper, `snapshot ${key} is an overlay with an upper dir: ${JSON.stringify(mounts)}`);
  return upper.slice('upperdir='.length);
}

test('Status advertises user namespaces for runc (no idmapped mounts needed) and crun 1.8.1 (probed), not for a binary it knows nothing of', async () => {
  const res = await daemon.client.runtime.status({ verbose: true });
  const handlers = res.runtimeHandlers;
  assert.equal(handlers.find(h => h.name === 'runc')?.features?.userNamespaces, true);
  assert.equal(handlers.find(h => h.name === '')?.features?.userNamespaces, true);
  assert.equal(handlers.find(h => h.name === 'crun')?.features?.userNamespaces, true);
  assert.equal(handlers.find(h => h.name === 'old')?.features?.userNamespaces, false);
  // Idmapped mounts: crun makes them, runc 1.1 does not.
  const details = JSON.parse(res.info.runtimeFeatures!) as { handlers: Record<string, { idmapMounts: boolean; derived?: { identity: string } }> };
  assert.deepEqual([details.handlers.runc!.idmapMounts, details.handlers.crun!.idmapMounts], [false, true]);
  assert.match(details.handlers.crun!.derived?.identity ?? '', /^crun \d/);
});

test('a node whose dirs keep the namespace\'s root out refuses user namespace pods FAILED_PRECONDITION, naming the dir', async () => {
  // runc bind-mounts the rootfs and the pod's files from inside the user namespace, as an unprivileged
  // host uid: the dirs above crikit's and containerd's must let it through, as /run and /var/lib do.
  // The test's dir is 0700 (mkdtemp) until it is opened below.
  assert.equal(fs.statSync(env.dirs.dir).mode & 0o777, 0o700);
  await assert.rejects(daemon.client.runtime.runPodSandbox({ config: usernsPod('closed-dir') }), (e: { code: number; details: string }) =>
    e.code === status.FAILED_PRECONDITION && e.details.includes(`${env.dirs.dir} (mode 0700) does not let others search it`));
  assert.deepEqual((await daemon.client.runtime.listPodSandbox({})).items, []);
  fs.chmodSync(env.dirs.dir, 0o711);
});

test('a pod in a user namespace: the mapping inside, image files owned by root, writes owned by the offset on the host, sysctls and network', async t => {
  const podCfg = usernsPod('userns', USERNS, { sysctls: { 'net.ipv4.ip_unprivileged_port_start': '81' } });
  const started = performance.now();
  const pod = (await daemon.client.runtime.runPodSandbox({ config: podCfg })).podSandboxId;
  t.diagnostic(`RunPodSandbox in a user namespace, the pause image's copy made on the way: ${Math.round(performance.now() - started)} ms`);
  const podStatus = await daemon.client.runtime.podSandboxStatus({ podSandboxId: pod, verbose: true });
  assert.equal(podStatus.status!.state, cri.PodSandboxState.SANDBOX_READY);
  const ip = podStatus.status!.network!.ip;
  assert.match(ip, new RegExp(`^10\\.88\\.${N}\\.`));
  const pausePid = JSON.parse(podStatus.info.info!).pid as number;
  // The pause itself runs in the namespace: the host sees its maps.
  assert.equal(idMap(fs.readFileSync(`/proc/${pausePid}/uid_map`, 'utf8')), `0 ${UIDS.hostId} ${UIDS.length}`);
  assert.equal(idMap(fs.readFileSync(`/proc/${pausePid}/gid_map`, 'utf8')), `0 ${GIDS.hostId} ${GIDS.length}`);

  // Both at once: they share one remapped copy of the image, made once.
  const [a, b] = await Promise.all(['userns-a', 'userns-b'].map(name => runContainer(daemon.client, pod, podCfg, usernsContainer(name, 'exec sleep 1000'))));
  assert.equal(idMap(await sh(a, 'cat /proc/self/uid_map')), `0 ${UIDS.hostId} ${UIDS.length}`);
  assert.equal(idMap(await sh(a, 'cat /proc/self/gid_map')), `0 ${GIDS.hostId} ${GIDS.length}`);
  // One namespace for the pod: both containers and the pause.
  const pauseUserns = fs.readlinkSync(`/proc/${pausePid}/ns/user`);
  assert.equal((await sh(a, 'readlink /proc/self/ns/user')).trim(), pauseUserns);
  assert.equal((await sh(b, 'readlink /proc/self/ns/user')).trim(), pauseUserns);
  assert.notEqual(pauseUserns, fs.readlinkSync('/proc/self/ns/user'));
  assert.equal((await sh(a, 'id -u; id -g')).trim(), '0\n0');

  // The image's files seen through the mapping: owned by root, /home/app by 1000, as in the image.
  assert.equal((await sh(a, 'stat -c "%u:%g %n" / /bin/busybox /etc/passwd /home/app')).trim(),
    ['0:0 /', '0:0 /bin/busybox', '0:0 /etc/passwd', '1000:1000 /home/app'].join('\n'));
  assert.match(await sh(a, 'ls -ln /bin/busybox'), /^\S+\s+\d+\s+0\s+0\s/);

  // A file the container writes: root inside, the mapping's host ids on the host.
  await sh(a, 'echo hello > /written && mkdir /made');
  const upper = await upperDir(a);
  const written = fs.statSync(path.join(upper, 'written'));
  assert.deepEqual([written.uid, written.gid], [UIDS.hostId, GIDS.hostId]);
  assert.equal(fs.readFileSync(path.join(upper, 'written'), 'utf8'), 'hello\n');
  const made = fs.statSync(path.join(upper, 'made'));
  assert.deepEqual([made.uid, made.gid], [UIDS.hostId, GIDS.hostId]);
  assert.equal((await sh(a, 'stat -c %u:%g /written')).trim(), '0:0');

  // The remapped copy of the image: shared by both containers, its files owned by the offsets on the host.
  // One copy of the pause image and one of busybox, named as containerd names them.
  const remapped = await remappedSnapshots();
  assert.equal(remapped.length, 2, remapped.join(', '));
  for (const name of remapped) assert.match(name, new RegExp(`^sha256:[0-9a-f]{64}-${UIDS.hostId}-${GIDS.hostId}$`));
  const info = await peek.snapshots.stat({ snapshotter: 'overlayfs', key: a });
  assert.equal(info.info!.labels['containerd.io/snapshot/uidmapping'], `0:${UIDS.hostId}:${UIDS.length}`);
  assert.equal(info.info!.labels['containerd.io/snapshot/gidmapping'], `0:${GIDS.hostId}:${GIDS.length}`);
  assert.equal((await peek.snapshots.stat({ snapshotter: 'overlayfs', key: b })).info!.parent, info.info!.parent);

  // Pod-level sysctls are set in the netns the user namespace owns; the pod's address is on eth0.
  assert.equal((await sh(a, 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start')).trim(), '81');
  assert.match(await sh(a, 'ip -4 addr show eth0'), new RegExp(`inet ${ip.replaceAll('.', '\\.')}/`));
  assert.equal((await sh(a, 'readlink /proc/self/ns/net')).trim(), fs.readlinkSync(`/proc/${pausePid}/ns/net`));

  await daemon.client.runtime.stopPodSandbox({ podSandboxId: pod });
  await daemon.client.runtime.removePodSandbox({ podSandboxId: pod });
  assert.deepEqual(env.network.allocatedIps(), []);
  // No rootfs uses the copies any more: they go too.
  await eventually(async () => ((await remappedSnapshots()).length === 0 ? true : undefined), 'the remapped snapshots to be removed');
  // Figures, not assertions: what making each remapped copy took (pause and busybox images).
  for (const line of daemon.stderr().split('\n')) {
    if (!line.includes('remapped image snapshot')) continue;
    const { snapshot, inodes, ms } = JSON.parse(line) as { snapshot: string; inodes: number; ms: number };
    t.diagnostic(`remapped copy ${snapshot.slice(0, 19)}…: ${inodes} inodes in ${ms} ms`);
  }
});

/** Asserts that `p` fails INVALID_ARGUMENT with every one of `words` in its message. */
async function refused(p: Promise<unknown>, ...words: string[]): Promise<void> {
  await assert.rejects(p, (e: { code: number; details: string }) => {
    assert.equal(e.code, status.INVALID_ARGUMENT, e.details);
    for (const w of words) assert.ok(e.details.includes(w), `"${e.details}" names ${w}`);
    return true;
  });
}

/** `crun state` of an id under the runc shim's root for namespace k8s.io (the handler sets no `root`): its status, or undefined. */
function crunStatus(id: string): string | undefined {
  const r = spawnSync('crun', ['--root', '/run/containerd/runc/k8s.io', 'state', id], { encoding: 'utf8' });
  return r.status === 0 ? (JSON.parse(r.stdout) as { status: string }).status : undefined;
}

test('crun: a pod in a user namespace, its containers joining it, and an idmapped volume seen through the mapping', async t => {
  const rt = daemon.client.runtime;
  // A volume owned on the host by uid/gid 1000 and by root: idmapped with the pod's mapping, the
  // container sees those ids; bound plainly, it sees ids its namespace does not map (nobody).
  const volume = fs.mkdtempSync(path.join(env.dirs.dir, 'crun-vol-'));
  fs.chmodSync(volume, 0o755);
  fs.writeFileSync(path.join(volume, 'app-file'), 'app\n');
  fs.chownSync(path.join(volume, 'app-file'), 1000, 1000);
  fs.writeFileSync(path.join(volume, 'root-file'), 'root\n');
  const mount = (containerPath: string, idmapped: boolean, shift = 0): PartialMessage<cri.Mount> => {
    // `shift` maps the volume's ids that much higher than the pod's mapping would: host 0 is `shift` inside.
    const ranges = (r: typeof UIDS) => [{ containerId: 0, hostId: r.hostId + shift, length: r.length - shift }];
    return { containerPath, hostPath: volume, propagation: cri.MountPropagation.PROPAGATION_PRIVATE, ...(idmapped ? { uidMappings: ranges(UIDS), gidMappings: ranges(GIDS) } : {}) };
  };
  const podCfg = usernsPod('userns-crun');
  const started = performance.now();
  const pod = (await rt.runPodSandbox({ config: podCfg, runtimeHandler: 'crun' })).podSandboxId;
  t.diagnostic(`RunPodSandbox on crun in a user namespace: ${Math.round(performance.now() - started)} ms`);
  const podStatus = await rt.podSandboxStatus({ podSandboxId: pod, verbose: true });
  assert.equal(podStatus.status!.state, cri.PodSandboxState.SANDBOX_READY);
  assert.equal(podStatus.status!.runtimeHandler, 'crun');
  assert.equal(crunStatus(pod), 'running', 'crun runs the pause');
  const pausePid = JSON.parse(podStatus.info.info!).pid as number;
  assert.equal(idMap(fs.readFileSync(`/proc/${pausePid}/uid_map`, 'utf8')), `0 ${UIDS.hostId} ${UIDS.length}`);

  const id = await runContainer(daemon.client, pod, podCfg, usernsContainer('crun-userns', 'exec sleep 1000', USERNS, {
    mounts: [mount('/idmapped', true), mount('/plain', false), mount('/shifted', true, 5000)],
  }));
  assert.equal(crunStatus(id), 'running', 'crun runs the container');
  assert.equal(idMap(await sh(id, 'cat /proc/self/uid_map')), `0 ${UIDS.hostId} ${UIDS.length}`);
  assert.equal(idMap(await sh(id, 'cat /proc/self/gid_map')), `0 ${GIDS.hostId} ${GIDS.length}`);
  assert.equal((await sh(id, 'readlink /proc/self/ns/user')).trim(), fs.readlinkSync(`/proc/${pausePid}/ns/user`));
  // The remapped rootfs: the image's files owned by root and 1000 inside, as in the image.
  assert.equal((await sh(id, 'stat -c "%u:%g %n" / /bin/busybox /home/app')).trim(), ['0:0 /', '0:0 /bin/busybox', '1000:1000 /home/app'].join('\n'));
  // The idmapped volume: host 1000 is 1000 inside, host root is root; plainly bound, both are nobody.
  assert.equal((await sh(id, 'stat -c "%u:%g %n" /idmapped/app-file /idmapped/root-file')).trim(), '1000:1000 /idmapped/app-file\n0:0 /idmapped/root-file');
  assert.equal((await sh(id, 'stat -c "%u:%g %n" /plain/app-file /plain/root-file')).trim(), '65534:65534 /plain/app-file\n65534:65534 /plain/root-file');
  // Mappings other than the pod's (the kubelet gives the pod's): host 1000 is 6000 inside, host root 5000.
  assert.equal((await sh(id, 'stat -c "%u:%g %n" /shifted/app-file /shifted/root-file')).trim(), '6000:6000 /shifted/app-file\n5000:5000 /shifted/root-file');
  assert.match(await sh(id, 'grep " /idmapped " /proc/self/mountinfo'), /\bidmapped\b/);
  // What root in the container writes there is root's on the host, through the mapping both ways.
  await sh(id, 'echo hi > /idmapped/written && chown 1000:1000 /idmapped/app-file');
  const written = fs.statSync(path.join(volume, 'written'));
  assert.deepEqual([written.uid, written.gid], [0, 0]);
  assert.equal(fs.statSync(path.join(volume, 'app-file')).uid, 1000);
  const denied = await rt.execSync({ containerId: id, cmd: ['/bin/sh', '-c', 'echo x > /plain/denied'], timeout: 10n });
  assert.notEqual(denied.exitCode, 0, 'the plain bind is root-owned on the host: nobody inside cannot write it');

  // Sharing the pod's pid namespace: crun 1.8.1 cannot idmap a mount there (mount_setattr EPERM; fixed
  // in 1.8.6), so that is refused before anything is made; without the mapped volume it runs.
  const sharedPid = (name: string, mounts: PartialMessage<cri.Mount>[]) => {
    const cfg = usernsContainer(name, 'exec sleep 1000', USERNS, { mounts });
    cfg.linux!.securityContext!.namespaceOptions!.pid = cri.NamespaceMode.POD;
    return cfg;
  };
  await refused(rt.createContainer({ podSandboxId: pod, sandboxConfig: podCfg, config: sharedPid('crun-shared-idmap', [mount('/idmapped', true)]) }),
    'mounts[0]', '/idmapped', 'joins another pid namespace (pid POD)', 'crun before 1.8.6');
  assert.deepEqual((await rt.listContainers({ filter: { podSandboxId: pod } })).containers.map(c => c.metadata?.name), ['crun-userns']);
  const shared = await runContainer(daemon.client, pod, podCfg, sharedPid('crun-shared-pid', [mount('/plain', false)]));
  assert.equal((await sh(shared, 'readlink /proc/self/ns/pid')).trim(), fs.readlinkSync(`/proc/${pausePid}/ns/pid`));
  assert.equal(idMap(await sh(shared, 'cat /proc/self/uid_map')), `0 ${UIDS.hostId} ${UIDS.length}`);

  await rt.stopPodSandbox({ podSandboxId: pod });
  await rt.removePodSandbox({ podSandboxId: pod });
  assert.equal(crunStatus(id), undefined, 'crun deleted the container');
  assert.deepEqual(env.network.allocatedIps(), []);
  await eventually(async () => ((await remappedSnapshots()).length === 0 ? true : undefined), 'the remapped snapshots to be removed');
});


test('what cannot be honoured is refused INVALID_ARGUMENT, naming the field and why, before anything is made', async t => {
  const rt = daemon.client.runtime;
  const containerdContainers = async () => (await peek.containers.list({ filters: [] })).containers.length;
  const pinned = () => (fs.existsSync(path.join(env.dirs.dir, 'state', 'netns')) ? fs.readdirSync(path.join(env.dirs.dir, 'state', 'netns')) : []);
  const before = { pods: (await rt.listPodSandbox({})).items.length, containers: await containerdContainers(), netns: pinned() };
  const run = (name: string, userns: PartialMessage<cri.UserNamespace>, extra: PartialMessage<cri.LinuxPodSandboxConfig> = {}, runtimeHandler = '') =>
    rt.runPodSandbox({ config: usernsPod(name, userns, extra), runtimeHandler });
  await refused(run('no-root', { mode: POD, uids: [{ containerId: 1, hostId: UIDS.hostId, length: 100 }], gids: [GIDS] }), FIELD, 'uids', 'container id 0 is not mapped');
  await refused(run('two-uids', { mode: POD, uids: [UIDS, { containerId: 65536, hostId: 0, length: 1 }], gids: [GIDS] }), FIELD, 'uids', 'only one mapping');
  await refused(run('two-gids', { mode: POD, uids: [UIDS], gids: [GIDS, { containerId: 65536, hostId: 0, length: 1 }] }), FIELD, 'gids', 'only one mapping');
  await refused(run('no-gids', { mode: POD, uids: [UIDS], gids: [] }), FIELD, 'gids');
  await refused(run('mode-container', { mode: cri.NamespaceMode.CONTAINER, uids: [UIDS], gids: [GIDS] }), FIELD, 'CONTAINER');
  await refused(run('mode-target', { mode: cri.NamespaceMode.TARGET, uids: [UIDS], gids: [GIDS] }), FIELD, 'TARGET');
  await refused(run('node-mappings', { mode: cri.NamespaceMode.NODE, uids: [UIDS], gids: [GIDS] }), FIELD, 'NODE');
  await refused(run('on-old', USERNS, {}, 'old'), FIELD, '"old"', 'does not support user namespaces');
  const hostNet = usernsPod('host-net');
  hostNet.linux!.securityContext!.namespaceOptions!.network = cri.NamespaceMode.NODE;
  await refused(rt.runPodSandbox({ config: hostNet }), FIELD, 'network');
  await refused(run('iface-sysctl', USERNS, { sysctls: { 'net.ipv4.conf.eth0.forwarding': '1' } }), FIELD, 'interface');
  assert.equal((await rt.listPodSandbox({})).items.length, before.pods);
  assert.equal(await containerdContainers(), before.containers);
  assert.deepEqual(pinned(), before.netns);

  // Containers: another namespace than the pod's, one in a pod without, idmapped volumes on runc.
  const podCfg = usernsPod('refuse-containers');
  const plainCfg = podConfig('refuse-plain');
  const timed = async (config: PartialMessage<cri.PodSandboxConfig>, what: string) => {
    const started = performance.now();
    const id = (await rt.runPodSandbox({ config })).podSandboxId;
    t.diagnostic(`RunPodSandbox ${what}: ${Math.round(performance.now() - started)} ms`);
    return id;
  };
  const pod = await timed(podCfg, 'in a user namespace');
  const plain = await timed(plainCfg, 'without one');
  const withContainers = await containerdContainers();
  const create = (podSandboxId: string, sandboxConfig: PartialMessage<cri.PodSandboxConfig>, config: PartialMessage<cri.ContainerConfig>) =>
    rt.createContainer({ podSandboxId, sandboxConfig, config });
  await refused(create(pod, podCfg, usernsContainer('other-range', 'true', { mode: POD, uids: [{ ...UIDS, hostId: UIDS.hostId + 65536 }], gids: [GIDS] })), FIELD, 'differs from the pod');
  await refused(create(pod, podCfg, usernsContainer('own-mode', 'true', { mode: cri.NamespaceMode.CONTAINER, uids: [UIDS], gids: [GIDS] })), FIELD, 'CONTAINER');
  await refused(create(plain, plainCfg, usernsContainer('in-plain-pod', 'true')), FIELD, 'differs from the pod');
  const volume = fs.mkdtempSync(path.join(env.dirs.dir, 'vol-'));
  await refused(create(pod, podCfg, usernsContainer('idmap-volume', 'true', USERNS, {
    mounts: [{ containerPath: '/data', hostPath: volume, propagation: cri.MountPropagation.PROPAGATION_PRIVATE, uidMappings: [UIDS], gidMappings: [GIDS] }],
  })), 'mounts[0]', '/data', 'idmapped mounts');
  assert.equal(await containerdContainers(), withContainers);
  assert.deepEqual((await rt.listContainers({})).containers, []);
  // Leaving the options out means the pod's namespace, as does NODE in a pod without one.
  const c = await runContainer(daemon.client, pod, podCfg, usernsContainer('implicit', 'exec sleep 1000', undefined));
  assert.equal(idMap(await sh(c, 'cat /proc/self/uid_map')), `0 ${UIDS.hostId} ${UIDS.length}`);
  const p = await runContainer(daemon.client, plain, plainCfg, usernsContainer('node-mode', 'exec sleep 1000', { mode: cri.NamespaceMode.NODE }));
  assert.equal(idMap(await sh(p, 'cat /proc/self/uid_map')), '0 0 4294967295');
  for (const id of [pod, plain]) {
    await rt.stopPodSandbox({ podSandboxId: id });
    await rt.removePodSandbox({ podSandboxId: id });
  }
});

test('a CNI failure in a user namespace pod undoes everything: the pinned netns, task, snapshots and remapped copy', async () => {
  const rt = daemon.client.runtime;
  await eventually(async () => ((await remappedSnapshots()).length === 0 ? true : undefined), 'earlier remapped snapshots to go');
  const active = async () => {
    const keys: string[] = [];
    for await (const page of peek.snapshots.list({ snapshotter: 'overlayfs', filters: [] })) {
      for (const info of page.info) if (info.kind !== snapshots.Kind.COMMITTED) keys.push(info.name);
    }
    return keys.sort();
  };
  const before = { containers: (await peek.containers.list({ filters: [] })).containers.length, snapshots: await active() };
  fs.writeFileSync(env.network.failFile, '');
  try {
    await assert.rejects(rt.runPodSandbox({ config: usernsPod('cni-fails') }), /failpoint|CNI|cni/i);
  } finally {
    fs.rmSync(env.network.failFile, { force: true });
  }
  assert.deepEqual((await rt.listPodSandbox({})).items, []);
  assert.equal((await peek.containers.list({ filters: [] })).containers.length, before.containers);
  assert.deepEqual(await active(), before.snapshots);
  assert.deepEqual(await remappedSnapshots(), [], 'the copy made for the pod went with it');
  const netnsDir = path.join(env.dirs.dir, 'state', 'netns');
  assert.deepEqual(fs.existsSync(netnsDir) ? fs.readdirSync(netnsDir) : [], []);
  assert.deepEqual(env.network.allocatedIps(), []);
});

test('a user namespace pod survives a crikitd SIGKILL: still ready, and containers can still be created in it', async () => {
  const podCfg = usernsPod('userns-restart');
  const pod = (await daemon.client.runtime.runPodSandbox({ config: podCfg })).podSandboxId;
  const first = await runContainer(daemon.client, pod, podCfg, usernsContainer('before-restart', 'exec sleep 1000'));
  const before = await daemon.client.runtime.podSandboxStatus({ podSandboxId: pod, verbose: true });

  daemon.proc.kill('SIGKILL');
  await daemon.exited;
  daemon.client.close();
  daemon = await startCrikitd(env.config, env.dirs.dir);

  const after = await daemon.client.runtime.podSandboxStatus({ podSandboxId: pod, verbose: true });
  assert.equal(after.status!.state, cri.PodSandboxState.SANDBOX_READY);
  assert.equal(after.status!.network!.ip, before.status!.network!.ip);
  assert.equal(JSON.parse(after.info.info!).pid, JSON.parse(before.info.info!).pid, 'the same pause process');
  assert.equal((await daemon.client.runtime.containerStatus({ containerId: first })).status!.state, cri.ContainerState.CONTAINER_RUNNING);
  const second = await runContainer(daemon.client, pod, podCfg, usernsContainer('after-restart', 'exec sleep 1000'));
  assert.equal(idMap(await sh(second, 'cat /proc/self/uid_map')), `0 ${UIDS.hostId} ${UIDS.length}`);
  assert.equal((await sh(second, 'readlink /proc/self/ns/user')).trim(), (await sh(first, 'readlink /proc/self/ns/user')).trim());
  assert.equal((await sh(second, 'stat -c %u:%g /bin/busybox')).trim(), '0:0');
  await daemon.client.runtime.stopPodSandbox({ podSandboxId: pod });
  await daemon.client.runtime.removePodSandbox({ podSandboxId: pod });
  assert.deepEqual(env.network.allocatedIps(), []);
  await eventually(async () => ((await remappedSnapshots()).length === 0 ? true : undefined), 'the remapped snapshots to be removed');
});
