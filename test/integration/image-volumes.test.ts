// Image volumes (a CRI Mount with `image` set, Kubernetes ImageVolume) with the real runc: the image's
// files are readable at the mount point and not writable; RemoveContainer unmounts the volume and
// removes its snapshot; refusals leave nothing behind; RemoveImage while the volume is mounted
// succeeds as containerd's does and the volume keeps working; a crikitd killed with SIGKILL finds its
// volumes again, mounts a missing one again and sweeps those no container owns.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { cri, snapshots, type PartialMessage } from '@crikit/api';
import { buildImage, pushImage } from '@crikit/testkit';
import { containerConfig, runContainer } from '../support/container-fixture.js';
import { containerdPeek } from '../support/containerd-peek.js';
import { startCrikitd, type RunningCrikitd } from '../support/crikitd.js';
import { stopDaemonAndPods } from '../support/pod-cleanup.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';

const label = 'io.crikit.image-volume.container';
let env: PodTestEnv;
let daemon: RunningCrikitd | undefined;
let layered: string;   // two layers: the volume is an overlay of both
let single: string;    // one layer: the volume is a bind of it

before(async () => {
  env = await podTestEnv(74);
  const { registry } = env;
  const two = await buildImage({ layers: [
    [{ type: 'directory', path: 'data' }, { type: 'file', path: 'data/hello.txt', data: 'hello from the image\n' },
      { type: 'directory', path: 'data/sub' }, { type: 'file', path: 'data/sub/inner.txt', data: 'inner\n' },
      { type: 'file', path: 'data/plain', data: 'not a dir\n' }, { type: 'symlink', path: 'data/link', target: '/../../../data/sub' },
      { type: 'symlink', path: 'data/escape', target: '../../../../etc' }],
    [{ type: 'file', path: 'data/second.txt', data: 'from the upper layer\n' }],
  ] });
  const one = await buildImage({ layers: [[{ type: 'file', path: 'only.txt', data: 'single layer\n' }]] });
  await pushImage({ url: registry.url }, 'layered', two, { tag: '1' });
  await pushImage({ url: registry.url }, 'single', one, { tag: '1' });
  layered = `${registry.host}/layered:1`;
  single = `${registry.host}/single:1`;
  daemon = await startCrikitd(env.config, env.dirs.dir);
  for (const image of [env.busybox, layered, single]) await daemon.client.image.pullImage({ image: { image } });
});
after(async () => {
  await stopDaemonAndPods(daemon);
  await env?.cleanup();
});

const volumesDir = () => path.join(env.config.paths.stateDir, 'image-volumes');
const mountsUnder = (dir: string): string[] => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
  .map(l => l.split(' ')[4] ?? '').filter(m => m.startsWith(`${dir}/`));
const imageMount = (containerPath: string, image: string, extra: PartialMessage<cri.Mount> = {}): PartialMessage<cri.Mount> =>
  ({ containerPath, image: { image }, readonly: true, propagation: cri.MountPropagation.PROPAGATION_PRIVATE, ...extra });

/** What containerd holds that an image volume could leave: containers, leases, non-committed snapshots. */
async function containerdState(): Promise<{ containers: string[]; leases: string[]; snapshots: string[]; volumes: string[] }> {
  const peek = await containerdPeek(path.join(env.dirs.dir, 'cs', 'containerd.sock'));
  try {
    const snaps: string[] = [];
    const volumes: string[] = [];
    for await (const page of peek.snapshots.list({ snapshotter: 'overlayfs', filters: [] })) {
      for (const i of page.info) {
        if (i.kind !== snapshots.Kind.COMMITTED) snaps.push(i.name);
        if (i.labels[label]) volumes.push(i.name);
      }
    }
    return {
      containers: (await peek.containers.list({ filters: [] })).containers.map(c => c.id).sort(),
      leases: (await peek.leases.list({ filters: [] })).leases.map(l => l.id).sort(),
      snapshots: snaps.sort(), volumes: volumes.sort(),
    };
  } finally {
    peek.close();
  }
}

async function pod(name: string): Promise<{ id: string; config: PartialMessage<cri.PodSandboxConfig> }> {
  const config = podConfig(name);
  return { id: (await daemon!.client.runtime.runPodSandbox({ config })).podSandboxId, config };
}

async function exec(containerId: string, script: string): Promise<{ out: string; err: string; code: number }> {
  const r = await daemon!.client.runtime.execSync({ containerId, cmd: ['/bin/sh', '-c', script], timeout: 10n });
  return { out: r.stdout.toString(), err: r.stderr.toString(), code: r.exitCode };
}

test('an image volume shows the image\'s files read-only; RemoveContainer unmounts it and removes its snapshot', async () => {
  const c = daemon!.client;
  const p = await pod('imgvol');
  const id = await runContainer(c, p.id, p.config, containerConfig('reader', env.busybox, 'exec sleep 1000', {
    mounts: [imageMount('/vol', layered), imageMount('/one', single), imageMount('/sub', layered, { imageSubPath: 'data/sub' }),
      imageMount('/link', layered, { imageSubPath: 'data/link' })],
  }));
  assert.equal((await exec(id, 'cat /vol/data/hello.txt /vol/data/second.txt')).out, 'hello from the image\nfrom the upper layer\n');
  assert.equal((await exec(id, 'cat /one/only.txt')).out, 'single layer\n');
  assert.equal((await exec(id, 'ls /sub')).out, 'inner.txt\n', 'image_sub_path mounts that directory only');
  assert.equal((await exec(id, 'ls /link')).out, 'inner.txt\n', 'a link in image_sub_path resolves inside the image');
  for (const target of ['/vol/new', '/vol/data/hello.txt', '/one/only.txt', '/sub/inner.txt']) {
    const write = await exec(id, `echo x > ${target}`);
    assert.notEqual(write.code, 0, `${target} is not writable`);
    assert.match(write.err, /Read-only file system/);
  }
  // On the host: one mount per volume under the state dir, each on a View snapshot labelled with the container.
  assert.equal(mountsUnder(path.join(volumesDir(), id)).length, 4);
  assert.deepEqual((await containerdState()).volumes, [0, 1, 2, 3].map(i => `crikit-image-volume-${id}-${i}`));
  const before = await containerdState();

  await c.runtime.stopContainer({ containerId: id, timeout: 0n });
  await c.runtime.removeContainer({ containerId: id });
  assert.deepEqual(mountsUnder(volumesDir()), []);
  assert.equal(fs.existsSync(path.join(volumesDir(), id)), false);
  const after = await containerdState();
  assert.deepEqual(after.volumes, []);
  assert.deepEqual(after.snapshots, before.snapshots.filter(s => s !== id && !s.startsWith('crikit-image-volume-')));
  await c.runtime.removePodSandbox({ podSandboxId: p.id });
});

test('refused image volumes name the mount and the reason, and leave nothing behind', async () => {
  const c = daemon!.client;
  const p = await pod('imgvol-refused');
  const before = await containerdState();
  const refuse = async (mount: PartialMessage<cri.Mount>, code: status, ...words: string[]) => {
    await assert.rejects(c.runtime.createContainer({ podSandboxId: p.id, sandboxConfig: p.config,
      config: containerConfig('refused', env.busybox, 'true', { mounts: [mount] }) }),
    (e: { code: number; details: string }) => {
      assert.equal(e.code, code, e.details);
      for (const w of words) assert.ok(e.details.includes(w), `"${e.details}" names ${w}`);
      return true;
    });
  };
  const absent = `${env.registry.host}/never-pulled:1`;
  await refuse(imageMount('/vol', absent), status.NOT_FOUND, absent, 'mounts[0]', '/vol');
  await refuse(imageMount('/vol', layered, { readonly: false }), status.INVALID_ARGUMENT, 'readonly', '/vol');
  await refuse(imageMount('/vol', layered, { hostPath: path.join(env.dirs.dir, 'nope') }), status.INVALID_ARGUMENT, 'host_path', '/vol');
  assert.equal(fs.existsSync(path.join(env.dirs.dir, 'nope')), false, 'no host path was made');
  await refuse(imageMount('/vol', layered, { imageSubPath: '../etc' }), status.INVALID_ARGUMENT, 'image_sub_path');
  // These fail once the volume is mounted: the rollback unmounts it and removes its snapshot.
  await refuse(imageMount('/vol', layered, { imageSubPath: 'data/missing' }), status.INVALID_ARGUMENT, 'image_sub_path', 'data/missing');
  await refuse(imageMount('/vol', layered, { imageSubPath: 'data/plain' }), status.INVALID_ARGUMENT, 'not a directory');
  // The link climbs out of the image to the host's /etc, which exists; resolved inside the image it does not.
  await refuse(imageMount('/vol', layered, { imageSubPath: 'data/escape' }), status.INVALID_ARGUMENT, 'does not exist');
  assert.deepEqual(await containerdState(), before);
  assert.deepEqual(mountsUnder(volumesDir()), []);
  assert.deepEqual(fs.existsSync(volumesDir()) ? fs.readdirSync(volumesDir()) : [], []);
  assert.deepEqual((await c.runtime.listContainers({ filter: { podSandboxId: p.id } })).containers, []);
  await c.runtime.removePodSandbox({ podSandboxId: p.id });
});

test('RemoveImage of a mounted image succeeds, as with containerd; the volume keeps working until its container goes', async () => {
  const c = daemon!.client;
  const p = await pod('imgvol-rmi');
  const id = await runContainer(c, p.id, p.config, containerConfig('holder', env.busybox, 'exec sleep 1000', { mounts: [imageMount('/vol', layered)] }));
  const imageId = (await c.image.imageStatus({ image: { image: layered } })).image!.id;
  await c.image.removeImage({ image: { image: layered } });
  assert.equal((await c.image.imageStatus({ image: { image: imageId } })).image, undefined, 'the image is gone');
  assert.ok(!(await c.image.listImages({})).images.some(i => i.id === imageId));
  // The removal ran containerd's GC synchronously: the volume's snapshot (and the layers under it) stayed.
  assert.equal((await exec(id, 'cat /vol/data/hello.txt /vol/data/second.txt')).out, 'hello from the image\nfrom the upper layer\n');
  assert.deepEqual((await containerdState()).volumes, [`crikit-image-volume-${id}-0`]);
  assert.ok((await c.image.imageFsInfo({})).imageFilesystems.length > 0);
  assert.equal((await c.runtime.listContainers({ filter: { podSandboxId: p.id } })).containers.length, 1);
  await c.runtime.removePodSandbox({ podSandboxId: p.id });
  assert.deepEqual((await containerdState()).volumes, []);
  assert.deepEqual(mountsUnder(volumesDir()), []);
  await c.image.pullImage({ image: { image: layered } });
});

test('after a crikitd SIGKILL: volumes of live containers are kept or mounted again, leftovers are swept', async () => {
  const p = await pod('imgvol-restart');
  const kept = await runContainer(daemon!.client, p.id, p.config, containerConfig('kept', env.busybox, 'exec sleep 1000', { mounts: [imageMount('/vol', single)] }));
  const created = (await daemon!.client.runtime.createContainer({ podSandboxId: p.id, sandboxConfig: p.config,
    config: containerConfig('created', env.busybox, 'cat /vol/only.txt', { mounts: [imageMount('/vol', single)] }) })).containerId;
  daemon!.proc.kill('SIGKILL');
  await daemon!.exited;
  daemon!.client.close();
  // As a reboot leaves it for a created container: its volume is no longer mounted.
  execFileSync('umount', [path.join(volumesDir(), created, '0')]);
  // As a crash mid-create leaves it: a mounted dir and a labelled view of a container that never was.
  const orphan = path.join(volumesDir(), 'f'.repeat(64), '0');
  fs.mkdirSync(orphan, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', orphan]);
  const peek = await containerdPeek(path.join(env.dirs.dir, 'cs', 'containerd.sock'));
  const parent = await volumeParent(peek);
  await peek.snapshots.view({ snapshotter: 'overlayfs', key: 'crikit-image-volume-orphan-0', parent, labels: { [label]: 'f'.repeat(64) } });
  peek.close();

  daemon = await startCrikitd(env.config, env.dirs.dir);
  const c = daemon.client;
  assert.equal((await exec(kept, 'cat /vol/only.txt')).out, 'single layer\n', 'the running container\'s volume is still there');
  assert.equal(fs.existsSync(path.dirname(orphan)), false, 'the orphan dir was unmounted and removed');
  assert.deepEqual((await containerdState()).volumes, [`crikit-image-volume-${created}-0`, `crikit-image-volume-${kept}-0`].sort());
  assert.deepEqual(mountsUnder(volumesDir()).sort(), [path.join(volumesDir(), created, '0'), path.join(volumesDir(), kept, '0')].sort());
  await c.runtime.startContainer({ containerId: created });
  const logs = path.join('/tmp/crikit-test-logs/imgvol-restart', 'created.log');
  for (let i = 0; i < 100 && !(fs.existsSync(logs) && fs.readFileSync(logs, 'utf8').includes('single layer')); i++) await new Promise(r => setTimeout(r, 100));
  assert.match(fs.readFileSync(logs, 'utf8'), /single layer/, 'the volume mounted again serves the created container');
  await c.runtime.removePodSandbox({ podSandboxId: p.id });
  assert.deepEqual((await containerdState()).volumes, []);
  assert.deepEqual(mountsUnder(volumesDir()), []);
});

test('in a user namespace pod (runc 1.1, no idmapped mounts) the volume is readable, its files owned as the mapping shows host root', async () => {
  // runc sets the namespace's root up as an unprivileged host uid, which must reach the rootfs under
  // containerd's state dir (see README); the volume's own dirs may stay private (runc opens bind sources first).
  fs.chmodSync(env.dirs.dir, 0o711);
  const usernsOptions = { mode: cri.NamespaceMode.POD, uids: [{ containerId: 0, hostId: 65536 * 74, length: 65536 }], gids: [{ containerId: 0, hostId: 65536 * 75, length: 65536 }] };
  const base = podConfig('imgvol-userns');
  const podCfg = { ...base, linux: { ...base.linux, securityContext: { ...base.linux!.securityContext, namespaceOptions: { ...base.linux!.securityContext!.namespaceOptions, usernsOptions } } } };
  const c = daemon!.client;
  const podId = (await c.runtime.runPodSandbox({ config: podCfg })).podSandboxId;
  const cfg = containerConfig('userns-reader', env.busybox, 'exec sleep 1000', { mounts: [imageMount('/vol', single)] });
  const id = await runContainer(c, podId, podCfg, { ...cfg, linux: { securityContext: { namespaceOptions: { ...cfg.linux!.securityContext!.namespaceOptions, usernsOptions } } } });
  assert.equal((await exec(id, 'cat /vol/only.txt')).out, 'single layer\n');
  assert.equal((await exec(id, 'stat -c %u:%g /vol/only.txt')).out, '65534:65534\n', 'host root is unmapped: nobody');
  assert.match((await exec(id, 'echo x > /vol/new')).err, /Read-only file system|Permission denied/);
  await c.runtime.removePodSandbox({ podSandboxId: podId });
  assert.deepEqual(mountsUnder(volumesDir()), []);
});

/** The parent of an image volume view (the top layer of its image). */
async function volumeParent(peek: Awaited<ReturnType<typeof containerdPeek>>): Promise<string> {
  for await (const page of peek.snapshots.list({ snapshotter: 'overlayfs', filters: [] })) {
    const view = page.info.find(i => i.labels[label] && i.kind === snapshots.Kind.VIEW);
    if (view) return view.parent;
  }
  throw new Error('no image volume view to take the parent from');
}
