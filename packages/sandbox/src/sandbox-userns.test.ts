import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { cri, type types } from '@crikit/api';
import {
  FailedPreconditionError, InvalidArgumentError, runtimesConfigSchema, sandboxPaths, type RemappedSnapshotRequest, type RemappedSnapshots,
} from '@crikit/core';
import { FakeNetworkNamespaces, FakeRuntimeFeatures } from '@crikit/core/testing';
import type { OciSpec } from '@crikit/oci';
import { enterPodUserNamespace, SandboxUserNamespaces, type PodHostSharing } from './sandbox-userns.js';

const UIDS = { containerId: 0, hostId: 65536, length: 65536 };
const GIDS = { containerId: 0, hostId: 131072, length: 1000 };
const signal = new AbortController().signal;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ck-sandbox-userns-'));
fs.chmodSync(root, 0o711);
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** Records prepares; makes nothing. */
class RecordingRemapped implements RemappedSnapshots {
  readonly prepared: RemappedSnapshotRequest[] = [];
  async prepare(request: RemappedSnapshotRequest): Promise<types.Mount[]> {
    this.prepared.push(request);
    return [];
  }
  async removeUnused(): Promise<void> {}
}

const features = new FakeRuntimeFeatures({
  handlers: [
    { name: 'runc', features: { recursiveReadOnlyMounts: true, userNamespaces: true } },
    { name: '', features: { recursiveReadOnlyMounts: true, userNamespaces: true } },
    { name: 'crun', features: { recursiveReadOnlyMounts: false, userNamespaces: false } },
  ],
  supplementalGroupsPolicy: true, userNamespacesHostNetwork: false, details: {},
});
const runtimes = runtimesConfigSchema.parse({ defaultHandler: 'runc', handlers: { runc: {}, crun: { binaryName: 'crun' } } });
const paths = { rootDir: path.join(root, 'root'), stateDir: path.join(root, 'state') };
const helper = (remapped: RemappedSnapshots | undefined = new RecordingRemapped()) =>
  new SandboxUserNamespaces(runtimes, paths, new FakeNetworkNamespaces(), features, remapped);
const pod = (mode = cri.NamespaceMode.POD) => cri.PodSandboxConfig.fromPartial({
  linux: { securityContext: { namespaceOptions: { usernsOptions: { mode, uids: mode === cri.NamespaceMode.POD ? [UIDS] : [], gids: mode === cri.NamespaceMode.POD ? [GIDS] : [] } } } },
});
const alone: PodHostSharing = { hostNetwork: false, hostPid: false, hostIpc: false, sysctls: {} };

describe('SandboxUserNamespaces.check', () => {
  it('gives the pod\'s user namespace on a handler that supports it, the default handler included', async () => {
    assert.deepEqual(await helper().check(pod(), '', alone, signal), { uids: UIDS, gids: GIDS });
    assert.deepEqual(await helper().check(pod(), 'runc', alone, signal), { uids: UIDS, gids: GIDS });
    assert.equal(await helper().check(pod(cri.NamespaceMode.NODE), 'crun', alone, signal), undefined);
    assert.equal(await helper().check(cri.PodSandboxConfig.fromPartial({}), 'crun', alone, signal), undefined);
  });
  it('refuses a handler without user namespaces, or a runtime without the container package', async () => {
    await assert.rejects(helper().check(pod(), 'crun', alone, signal), (e: Error) => e instanceof InvalidArgumentError && /runtime handler "crun" does not support user namespaces/.test(e.message));
    await assert.rejects(new SandboxUserNamespaces(runtimes, paths, new FakeNetworkNamespaces(), undefined, undefined).check(pod(), 'runc', alone, signal), InvalidArgumentError);
    await assert.rejects(helper(null as unknown as undefined).check(pod(), 'runc', alone, signal), InvalidArgumentError);
  });
  it('refuses FAILED_PRECONDITION while a dir above crikit\'s does not let the namespace\'s root through', async () => {
    fs.chmodSync(root, 0o700);
    try {
      await assert.rejects(helper().check(pod(), 'runc', alone, signal), (e: Error) => e instanceof FailedPreconditionError && e.message.includes(`${root} (mode 0700) does not let others search it`));
    } finally {
      fs.chmodSync(root, 0o711);
    }
    assert.ok(await helper().check(pod(), 'runc', alone, signal));
  });
  it('refuses host namespaces and interface sysctls', async () => {
    for (const shared of ['hostNetwork', 'hostPid', 'hostIpc'] as const) {
      await assert.rejects(helper().check(pod(), 'runc', { ...alone, [shared]: true }, signal), /cannot share the host's/);
    }
    await assert.rejects(helper().check(pod(), 'runc', { ...alone, sysctls: { 'net.ipv4.conf.eth0.forwarding': '1' } }, signal), /interface/);
    assert.ok(await helper().check(pod(), 'runc', { ...alone, sysctls: { 'net.ipv4.conf.all.forwarding': '1' } }, signal));
  });
});

describe('SandboxUserNamespaces files and rootfs', () => {
  it('lets others search (never read) crikit\'s dirs down to the sandbox\'s files', async () => {
    const files = sandboxPaths(paths, 'sb1');
    fs.mkdirSync(files.dir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(files.shm, { recursive: true, mode: 0o700 });
    await helper().exposeFiles(files);
    for (const dir of [paths.rootDir, path.dirname(files.dir), files.dir, paths.stateDir, path.dirname(files.stateDir), files.stateDir]) {
      assert.equal(fs.statSync(dir).mode & 0o777, 0o711, dir);
    }
  });
  it('prepares the pause rootfs as a remapped snapshot', async () => {
    const remapped = new RecordingRemapped();
    await helper(remapped).prepareRootfs('sb1', 'sha256:chain', { uids: UIDS, gids: GIDS }, signal);
    assert.deepEqual(remapped.prepared, [{ key: 'sb1', parent: 'sha256:chain', userns: { uids: UIDS, gids: GIDS } }]);
  });
});

describe('enterPodUserNamespace', () => {
  it('gives the pause a new user namespace with the mappings and a new netns inside it', () => {
    const spec: OciSpec = {
      ociVersion: '1.1.0',
      linux: {
        namespaces: [{ type: 'pid' }, { type: 'network', path: '/made/by/pause' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
        sysctl: { 'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '0' },
      },
    };
    enterPodUserNamespace(spec, { uids: UIDS, gids: GIDS });
    assert.deepEqual(spec.linux?.namespaces, [{ type: 'user' }, { type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }]);
    assert.deepEqual(spec.linux?.uidMappings, [{ containerID: 0, hostID: 65536, size: 65536 }]);
    assert.deepEqual(spec.linux?.gidMappings, [{ containerID: 0, hostID: 131072, size: 1000 }]);
    // The kernel refuses a ping range with gids the namespace does not map.
    assert.deepEqual(spec.linux?.sysctl, { 'net.ipv4.ping_group_range': '0 999', 'net.ipv4.ip_unprivileged_port_start': '0' });
  });
  it('refuses a pause user or group outside the mapping (the pause image runs as 65535)', () => {
    const pause = (): OciSpec => ({ ociVersion: '1.1.0', process: { args: ['/pause'], cwd: '/', user: { uid: 65535, gid: 65535 } }, linux: {} });
    assert.doesNotThrow(() => enterPodUserNamespace(pause(), { uids: UIDS, gids: { ...GIDS, length: 65536 } }));
    assert.throws(() => enterPodUserNamespace(pause(), { uids: UIDS, gids: GIDS }), /the pause runs as gid 65535, outside the pod's user namespace, which maps gids 0-999/);
    assert.throws(() => enterPodUserNamespace(pause(), { uids: { ...UIDS, length: 100 }, gids: GIDS }), /uid 65535/);
  });
});
