// Supplemental groups policy (issue 14), against real containerd and runc through the CRI socket:
// Merge adds the groups the image's /etc/group lists the user in, Strict only the requested ones;
// `id -G` inside the container and ContainerStatus's user agree, and Status advertises the policy.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { cri, type PartialMessage } from '@crikit/api';
import { createRuntime, type CriRuntime } from '@crikit/server';
import { containerConfig, runContainer } from '../support/container-fixture.js';
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
  env = await podTestEnv(89);
  runtime = createRuntime({ logger: testLogger(), config: env.config });
  await runtime.start(AbortSignal.timeout(60_000));
  c = criClient(runtime.socket);
  await c.image.pullImage({ image: { image: env.busybox } });
  podCfg = podConfig('groups-policy');
  pod = (await c.runtime.runPodSandbox({ config: podCfg })).podSandboxId;
});
after(async () => {
  c?.close();
  await stopRuntimeAndPods(runtime);
  await env?.cleanup();
});

const ns = { network: cri.NamespaceMode.POD, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD };
const groupsIn = async (id: string): Promise<number[]> => {
  const out = await c.runtime.execSync({ containerId: id, cmd: ['/bin/sh', '-c', 'id -u; id -g; id -G'], timeout: 10n });
  assert.equal(out.exitCode, 0, Buffer.from(out.stderr).toString());
  const [uid, gid, groups] = Buffer.from(out.stdout).toString().trim().split('\n');
  return [Number(uid), Number(gid), ...groups!.split(' ').map(Number).sort((a, b) => a - b)];
};
const reported = async (id: string): Promise<number[]> => {
  const user = (await c.runtime.containerStatus({ containerId: id })).status!.user!.linux!;
  return [Number(user.uid), Number(user.gid), ...user.supplementalGroups.map(Number).sort((a, b) => a - b)];
};

test('Status advertises the supplemental groups policy', async () => {
  const s = await c.runtime.status({ verbose: false });
  assert.equal(s.features?.supplementalGroupsPolicy, true);
});

test('Merge keeps the image\'s /etc/group membership (app is in extra, 2000); Strict drops it', async () => {
  // The busybox fixture's /etc/group: app (1000) is a member of extra (2000).
  const merge = await runContainer(c, pod, podCfg, containerConfig('merge', env.busybox, 'exec sleep 1000', {
    linux: { securityContext: { namespaceOptions: ns, runAsUser: { value: 1000n }, supplementalGroups: [3000n] } },
  }));
  const strict = await runContainer(c, pod, podCfg, containerConfig('strict', env.busybox, 'exec sleep 1000', {
    linux: { securityContext: { namespaceOptions: ns, runAsUser: { value: 1000n }, supplementalGroups: [3000n], supplementalGroupsPolicy: cri.SupplementalGroupsPolicy.Strict } },
  }));
  // By name, Strict still takes the primary group from /etc/passwd but not the memberships.
  const strictByName = await runContainer(c, pod, podCfg, containerConfig('strict-name', env.busybox, 'exec sleep 1000', {
    linux: { securityContext: { namespaceOptions: ns, runAsUsername: 'app', supplementalGroupsPolicy: cri.SupplementalGroupsPolicy.Strict } },
  }));
  const expected: [string, number[]][] = [[merge, [1000, 1000, 1000, 2000, 3000]], [strict, [1000, 1000, 1000, 3000]], [strictByName, [1000, 1000, 1000]]];
  for (const [id, want] of expected) {
    assert.deepEqual(await groupsIn(id), want, 'uid, gid, groups seen by id inside');
    assert.deepEqual(await reported(id), want, 'ContainerStatus.user');
  }
  for (const [id] of expected) await c.runtime.removeContainer({ containerId: id });
});

test('an unknown policy is refused with INVALID_ARGUMENT, for a container and for a pod, and nothing is left', async () => {
  const unknown = 7 as cri.SupplementalGroupsPolicy;
  await assert.rejects(c.runtime.createContainer({ podSandboxId: pod, sandboxConfig: podCfg,
    config: containerConfig('bad-policy', env.busybox, 'true', { linux: { securityContext: { namespaceOptions: ns, runAsUser: { value: 1000n }, supplementalGroupsPolicy: unknown } } }) }),
  (e: { code: number; details: string }) => e.code === status.INVALID_ARGUMENT && /supplemental_groups_policy: unknown supplemental groups policy 7/.test(e.details));
  assert.deepEqual((await c.runtime.listContainers({ filter: { podSandboxId: pod } })).containers, []);
  const badPod = podConfig('groups-policy-bad', { linux: { securityContext: { namespaceOptions: ns, supplementalGroupsPolicy: unknown } } });
  await assert.rejects(c.runtime.runPodSandbox({ config: badPod }),
    (e: { code: number; details: string }) => e.code === status.INVALID_ARGUMENT && /supplemental_groups_policy/.test(e.details));
  assert.deepEqual((await c.runtime.listPodSandbox({})).items.map(p => p.id), [pod]);
});
