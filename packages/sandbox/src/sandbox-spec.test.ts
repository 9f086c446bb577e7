import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cri } from '@crikit/api';
import { decodeOciImageConfig, InvalidArgumentError, type SandboxId } from '@crikit/core';
import { buildSandboxSpec, type SandboxSpecInput } from './sandbox-spec.js';

const id = 'a'.repeat(64) as SandboxId;
const NODE = cri.NamespaceMode.NODE;
const POD = cri.NamespaceMode.POD;

function input(patch: { sc?: Partial<cri.LinuxSandboxSecurityContext>; linux?: Partial<cri.LinuxPodSandboxConfig>;
  config?: Partial<cri.PodSandboxConfig>; rest?: Partial<SandboxSpecInput>; options?: Partial<SandboxSpecInput['options']> } = {}): SandboxSpecInput {
  const sc: cri.LinuxSandboxSecurityContext = {
    namespaceOptions: { network: POD, pid: POD, ipc: POD, targetId: '', usernsOptions: undefined },
    selinuxOptions: undefined, runAsUser: undefined, runAsGroup: undefined, readonlyRootfs: false, supplementalGroups: [],
    supplementalGroupsPolicy: cri.SupplementalGroupsPolicy.Merge, privileged: false, seccomp: undefined, apparmor: undefined,
    seccompProfilePath: '', ...patch.sc,
  };
  const config = cri.PodSandboxConfig.fromPartial({
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1', attempt: 0 }, hostname: 'web-0', logDirectory: '/var/log/pods/x',
  });
  config.linux = { cgroupParent: '/kubepods/pod1', securityContext: sc, sysctls: {}, overhead: undefined, resources: undefined, ...patch.linux };
  Object.assign(config, patch.config);
  return {
    id, config,
    image: { name: 'registry.k8s.io/pause:3.10', config: decodeOciImageConfig({ architecture: 'amd64', os: 'linux', config: { Entrypoint: ['/pause'], User: '65535:65535', Env: ['PATH=/'] } }) },
    netnsPath: '/run/netns/cni-1', shmPath: `/run/crikit/sandboxes/${id}/shm`, userDb: { passwd: undefined, group: undefined },
    options: { cgroupDriver: 'cgroupfs', restrictOomScoreAdj: false, ownOomScoreAdj: 0, arch: 'amd64', ...patch.options },
    ...patch.rest,
  };
}

describe('buildSandboxSpec', () => {
  it('runs the pause image’s command as its user, read-only', () => {
    const spec = buildSandboxSpec(input());
    assert.deepEqual(spec.process?.args, ['/pause']);
    assert.deepEqual(spec.process?.user, { uid: 65535, gid: 65535 });
    assert.deepEqual(spec.process?.env, ['PATH=/']);
    assert.equal(spec.process?.cwd, '/');
    assert.equal(spec.process?.rlimits, undefined);
    assert.deepEqual(spec.root, { path: 'rootfs', readonly: true });
  });

  it('refuses an image without a command', () => {
    const i = input();
    const bad = { ...i, image: { name: 'x', config: decodeOciImageConfig({ architecture: 'amd64', os: 'linux' }) } };
    assert.throws(() => buildSandboxSpec(bad), InvalidArgumentError);
  });

  it('takes run_as_user/run_as_group and supplemental groups from the pod', () => {
    const spec = buildSandboxSpec(input({ sc: { runAsUser: { value: 1000n }, runAsGroup: { value: 3000n }, supplementalGroups: [5n, 4n] } }));
    assert.deepEqual(spec.process?.user, { uid: 1000, gid: 3000, additionalGids: [4, 5] });
    assert.throws(() => buildSandboxSpec(input({ sc: { runAsGroup: { value: 1n } } })), InvalidArgumentError);
    // Out of range: negative, (gid_t)-1 and beyond 32 bits; the error names the field and the value.
    for (const g of [-1n, 0xffff_ffffn, 1n << 40n]) {
      assert.throws(() => buildSandboxSpec(input({ sc: { runAsUser: { value: 1000n }, supplementalGroups: [5n, g] } })),
        (e: Error) => e instanceof InvalidArgumentError && e.message.includes('supplemental_groups') && e.message.includes(String(g)));
    }
    assert.throws(() => buildSandboxSpec(input({ sc: { supplementalGroupsPolicy: 3 as cri.SupplementalGroupsPolicy } })),
      (e: Error) => e instanceof InvalidArgumentError && e.message.includes('supplemental_groups_policy'));
  });

  it('joins the pinned netns and sets the hostname in a private UTS namespace', () => {
    const spec = buildSandboxSpec(input());
    assert.equal(spec.hostname, 'web-0');
    assert.deepEqual(spec.linux?.namespaces, [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network', path: '/run/netns/cni-1' }]);
  });

  it('shares the host’s network, UTS, pid and IPC namespaces when asked', () => {
    const spec = buildSandboxSpec(input({ sc: { namespaceOptions: { network: NODE, pid: NODE, ipc: NODE, targetId: '', usernsOptions: undefined } }, rest: { netnsPath: undefined } }));
    assert.deepEqual(spec.linux?.namespaces, [{ type: 'mount' }]);
    assert.equal(spec.hostname, undefined);
    assert.equal(spec.mounts?.find(m => m.destination === '/dev/shm')?.source, '/dev/shm');
  });

  it('mounts the sandbox’s shm read-only over /dev/shm', () => {
    const shm = buildSandboxSpec(input()).mounts?.filter(m => m.destination === '/dev/shm');
    assert.deepEqual(shm, [{ destination: '/dev/shm', type: 'bind', source: `/run/crikit/sandboxes/${id}/shm`, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] }]);
  });

  it('sets sysctls, with the unprivileged defaults outside the host network', () => {
    const spec = buildSandboxSpec(input({ linux: { sysctls: { 'kernel.shm_rmid_forced': '1' } }, options: { unprivilegedPorts: true, unprivilegedIcmp: true } }));
    assert.deepEqual(spec.linux?.sysctl, { 'kernel.shm_rmid_forced': '1', 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ping_group_range': '0 2147483647' });
    assert.equal(buildSandboxSpec(input()).linux?.sysctl, undefined);
  });

  it('gets cpu shares 2, oom_score_adj -998 (clamped when restricted) and the cgroups path', () => {
    const spec = buildSandboxSpec(input());
    assert.deepEqual(spec.linux?.resources?.cpu, { shares: 2 });
    assert.equal(spec.linux?.resources?.devices?.[0]?.allow, false);
    assert.equal(spec.process?.oomScoreAdj, -998);
    assert.equal(spec.linux?.cgroupsPath, `/kubepods/pod1/${id}`);
    assert.equal(buildSandboxSpec(input({ options: { restrictOomScoreAdj: true, ownOomScoreAdj: -500 } })).process?.oomScoreAdj, -500);
    assert.equal(buildSandboxSpec(input({ linux: { cgroupParent: '/kubepods.slice/kubepods-pod1.slice' }, options: { cgroupDriver: 'systemd' } })).linux?.cgroupsPath,
      `kubepods-pod1.slice:cri-containerd:${id}`);
  });

  it('runs the seccomp profile the pod asks, none when it asks none (RuntimeDefault with runtimeDefaultSeccomp), none when privileged', () => {
    assert.equal(buildSandboxSpec(input()).linux?.seccomp, undefined);
    assert.equal(buildSandboxSpec(input({ options: { runtimeDefaultSeccomp: true } })).linux?.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(buildSandboxSpec(input({ sc: { seccomp: { profileType: cri.SecurityProfile_ProfileType.RuntimeDefault, localhostRef: '' } } })).linux?.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(buildSandboxSpec(input({ sc: { seccomp: { profileType: cri.SecurityProfile_ProfileType.Unconfined, localhostRef: '' } } })).linux?.seccomp, undefined);
    assert.equal(buildSandboxSpec(input({ sc: { seccompProfilePath: 'unconfined' } })).linux?.seccomp, undefined);
    const local = buildSandboxSpec(input({ sc: { seccomp: { profileType: cri.SecurityProfile_ProfileType.Localhost, localhostRef: '/p.json' } },
      rest: { localhostSeccomp: { defaultAction: 'SCMP_ACT_LOG' } } }));
    assert.deepEqual(local.linux?.seccomp, { defaultAction: 'SCMP_ACT_LOG' });
    const priv = buildSandboxSpec(input({ sc: { privileged: true }, options: { runtimeDefaultSeccomp: true } }));
    assert.equal(priv.linux?.seccomp, undefined);
    assert.equal(priv.linux?.maskedPaths, undefined);
    assert.equal(priv.linux?.readonlyPaths, undefined);
  });

  it('carries the CRI sandbox annotations', () => {
    const spec = buildSandboxSpec(input({ linux: { resources: cri.LinuxContainerResources.fromPartial({ cpuShares: 512n, memoryLimitInBytes: 1024n }) } }));
    assert.deepEqual(spec.annotations, {
      'io.kubernetes.cri.container-type': 'sandbox',
      'io.kubernetes.cri.sandbox-id': id,
      'io.kubernetes.cri.sandbox-name': 'web',
      'io.kubernetes.cri.sandbox-namespace': 'default',
      'io.kubernetes.cri.sandbox-uid': 'uid-1',
      'io.kubernetes.cri.sandbox-log-directory': '/var/log/pods/x',
      'io.kubernetes.cri.image-name': 'registry.k8s.io/pause:3.10',
      'io.kubernetes.cri.sandbox-cpu-period': '0',
      'io.kubernetes.cri.sandbox-cpu-quota': '0',
      'io.kubernetes.cri.sandbox-cpu-shares': '512',
      'io.kubernetes.cri.sandbox-memory': '1024',
    });
  });

  it('passes only the pod annotations the runtime handler allows; the CRI ones win', () => {
    const annotations = { 'example.com/a': '1', 'example.com/b/c': '2', 'other.io/x': '3', 'io.kubernetes.cri.sandbox-id': 'spoof' };
    const none = buildSandboxSpec(input({ config: { annotations } }));
    assert.equal(Object.keys(none.annotations ?? {}).some(k => !k.startsWith('io.kubernetes.cri.')), false);
    const some = buildSandboxSpec(input({ config: { annotations }, rest: { podAnnotationPatterns: ['example.com/*', 'io.kubernetes.cri.*'] } }));
    assert.equal(some.annotations?.['example.com/a'], '1');
    assert.equal('example.com/b/c' in (some.annotations ?? {}), false); // * does not cross "/"
    assert.equal('other.io/x' in (some.annotations ?? {}), false);
    assert.equal(some.annotations?.['io.kubernetes.cri.sandbox-id'], id);
  });

  it('refuses a hostname sethostname(2) would refuse, unless the pod uses the host network', () => {
    assert.throws(() => buildSandboxSpec(input({ config: { hostname: 'x'.repeat(65) } })), (e: Error) => e instanceof InvalidArgumentError && /config\.hostname is 65 bytes/.test(e.message));
    assert.throws(() => buildSandboxSpec(input({ config: { hostname: 'ü'.repeat(33) } })), /66 bytes/);
    assert.throws(() => buildSandboxSpec(input({ config: { hostname: 'a\0b' } })), /NUL/);
    assert.equal(buildSandboxSpec(input({ config: { hostname: 'x'.repeat(64) } })).hostname, 'x'.repeat(64));
    assert.equal(buildSandboxSpec(input({ config: { hostname: 'x'.repeat(65) }, sc: { namespaceOptions: { network: NODE, pid: POD, ipc: POD, targetId: '', usernsOptions: undefined } } })).hostname, undefined);
  });
});
