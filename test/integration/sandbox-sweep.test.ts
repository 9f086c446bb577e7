// crikitd SIGKILLed in the middle of RunPodSandbox, after the netns, the files, the shm mount and the
// CNI plugins' IP and port mappings exist but before anything is recorded in containerd: the next
// crikitd sweeps them all at start-up (real containerd, CNI plugins, iptables, through the CRI socket).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { cri } from '@crikit/api';
import { eventually } from '../support/container-fixture.js';
import { startCrikitd, type RunningCrikitd } from '../support/crikitd.js';
import { stopDaemonAndPods } from '../support/pod-cleanup.js';
import { podTestEnv, type PodTestEnv } from '../support/pod-env.js';
import { podConfig } from '../support/pod-fixture.js';

let env: PodTestEnv;
let daemon: RunningCrikitd | undefined;

before(async () => { env = await podTestEnv(94); });
after(async () => {
  if (env && fs.existsSync(env.network.failFile)) fs.rmSync(env.network.failFile);
  await stopDaemonAndPods(daemon);
  await env?.cleanup();
});

const natRules = (): string => execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' });
const mounted = (p: string): boolean => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some(l => l.split(' ')[4] === p);

test('what a RunPodSandbox cut short by SIGKILL left (netns, IP, port mappings, files, shm) is gone after the restart', async () => {
  const { rootDir, stateDir } = env.config.paths;
  const netnsDir = path.join(stateDir, 'netns');
  const containerdStateDir = (env.config.containerd as { managed: { stateDir: string } }).managed.stateDir;
  daemon = await startCrikitd(env.config, env.dirs.dir);
  const config = podConfig('cut-short', {
    logDirectory: path.join(env.dirs.dir, 'logs'),
    portMappings: [{ protocol: cri.Protocol.TCP, containerPort: 80, hostPort: 40094 }],
  });
  // A first pod pulls and pins the pause image, so the next RunPodSandbox needs containerd only to record the pod.
  const first = (await daemon.client.runtime.runPodSandbox({ config })).podSandboxId;
  await daemon.client.runtime.stopPodSandbox({ podSandboxId: first });
  await daemon.client.runtime.removePodSandbox({ podSandboxId: first });

  // containerd stopped: the pod is never recorded there. The failpoint plugin, last in the CNI chain,
  // hangs after bridge, host-local and portmap did their part.
  const containerdPid = Number(fs.readFileSync(path.join(containerdStateDir, 'containerd.pid'), 'utf8'));
  process.kill(containerdPid, 'SIGSTOP');
  fs.writeFileSync(env.network.failFile, 'hang');
  const running = daemon.client.runtime.runPodSandbox({ config }).catch((err: unknown) => err);
  let id: string;
  try {
    id = await eventually(async () => {
      const [pin] = fs.existsSync(netnsDir) ? fs.readdirSync(netnsDir) : [];
      return pin && env.network.allocatedIps().length === 1 && natRules().includes(pin) ? pin : undefined;
    }, 'the netns, an IP and the port mapping of the pod being run');
    // crikitd and its containerd die as in a power cut: containerd never reads the pod's record.
    daemon.proc.kill('SIGKILL');
    await daemon.exited;
  } finally {
    process.kill(containerdPid, 'SIGKILL');
    process.kill(containerdPid, 'SIGCONT');
  }
  await running;
  const left = {
    netns: path.join(netnsDir, id),
    files: path.join(rootDir, 'sandboxes', id),
    state: path.join(stateDir, 'sandboxes', id),
    shm: path.join(stateDir, 'sandboxes', id, 'shm'),
  };
  for (const [what, p] of Object.entries(left)) assert.ok(fs.existsSync(p), `${what} ${p} is left after the kill`);
  assert.ok(mounted(left.shm), 'the shm is left mounted');
  fs.rmSync(env.network.failFile); // the orphaned plugin stops hanging
  daemon = await startCrikitd(env.config, env.dirs.dir);
  // Version answers early; the other RPCs once start-up (and so the sweep) is done.
  await eventually(() => daemon!.client.runtime.listPodSandbox({}).then(() => true, () => undefined), 'start-up to end');

  assert.deepEqual((await daemon.client.runtime.listPodSandbox({})).items, [], 'no pod: containerd never recorded it');
  assert.deepEqual(env.network.allocatedIps(), [], 'host-local released the IP');
  assert.equal(natRules().includes(id), false, 'portmap removed its rules');
  assert.equal(mounted(left.shm), false, 'the shm is unmounted');
  for (const [what, p] of Object.entries(left)) assert.equal(fs.existsSync(p), false, `${what} ${p} is gone`);
  const cache = path.join(rootDir, 'cni', 'results');
  assert.deepEqual(fs.existsSync(cache) ? fs.readdirSync(cache).filter(n => n.includes(id)) : [], [], 'no cni cache entry is left');

  // And the node works: the kubelet's retry gets a pod, with the IP back in the pool.
  const { podSandboxId } = await daemon.client.runtime.runPodSandbox({ config });
  assert.equal((await daemon.client.runtime.podSandboxStatus({ podSandboxId })).status!.state, cri.PodSandboxState.SANDBOX_READY);
  await daemon.client.runtime.stopPodSandbox({ podSandboxId });
  await daemon.client.runtime.removePodSandbox({ podSandboxId });
  assert.deepEqual(env.network.allocatedIps(), []);
});
