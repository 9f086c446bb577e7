// The "pod + container from scratch, then removed" scenario of `pnpm bench:pods`: one pod and one container, the
// whole life as the kubelet drives it for a short-lived pod, timed as one: RunPodSandbox → CreateContainer →
// StartContainer → StopContainer → RemoveContainer → StopPodSandbox → RemovePodSandbox. The images are pulled
// before (PullImage is measured on its own), so "from scratch" means no pod, no container, no snapshot, no netns.
// The container runs `trap "exit 0" TERM; echo ready; sleep 1000 & wait` (it is pid 1 of its own pid namespace,
// where a signal without a handler is ignored; with the trap it exits 0 at once on SIGTERM, as a well-behaved
// workload does). StopContainer waits until `ready` is in the container's log, so the trap is set: that wait, like
// the checks, is not timed.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { cri, type PartialMessage } from '@crikit/api';
import type { BenchSide } from './harness.js';

/** What one side needs to run the scenario. */
export interface ScratchTarget {
  readonly side: BenchSide;
  /** Builds a kubelet-shaped PodSandboxConfig for a pod named `name` (log dir made). */
  readonly podConfig: (name: string) => PartialMessage<cri.PodSandboxConfig>;
  /** The container image as PullImage returned it (the kubelet creates containers by the ref it pulled). */
  readonly imageRef: string;
  /** The reference the pull asked for (the kubelet sends it as userSpecifiedImage). */
  readonly imageName: string;
  /** Whether `ip` is in the side's subnet. */
  readonly contains: (ip: string) => boolean;
}

const rpcTimeoutMs = 60_000;
const stopTimeoutSeconds = 10n;
const script = 'trap "exit 0" TERM; echo ready; sleep 1000 & wait';
const readyTimeoutMs = 30_000;

/** Resolves once the CRI log at `file` has a `ready` line (polled every 5 ms). */
async function untilReady(file: string, what: string): Promise<void> {
  const deadline = performance.now() + readyTimeoutMs;
  for (;;) {
    try {
      if (/ stdout F ready$/m.test(readFileSync(file, 'utf8'))) return;
    } catch {
      // not written yet
    }
    if (performance.now() > deadline) throw new Error(`${what}: no "ready" in ${file} within ${readyTimeoutMs} ms`);
    await new Promise(resolve => setTimeout(resolve, 5));
  }
}

/** A kubelet-shaped ContainerConfig in `pod`: command, log path under the pod's log dir (made first), kubelet labels. */
function containerConfig(t: ScratchTarget, pod: PartialMessage<cri.PodSandboxConfig>, name: string): PartialMessage<cri.ContainerConfig> {
  mkdirSync(path.join(pod.logDirectory!, name), { recursive: true });
  const meta = pod.metadata!;
  return {
    metadata: { name, attempt: 0 },
    image: { image: t.imageRef, userSpecifiedImage: t.imageName },
    command: ['/bin/sh', '-c', script],
    logPath: path.join(name, '0.log'),
    labels: {
      'io.kubernetes.container.name': name, 'io.kubernetes.pod.name': meta.name!,
      'io.kubernetes.pod.namespace': meta.namespace!, 'io.kubernetes.pod.uid': meta.uid!,
    },
    annotations: { 'io.kubernetes.container.restartCount': '0', 'io.kubernetes.pod.terminationGracePeriod': '30' },
    linux: {
      resources: { cpuPeriod: 100_000n, cpuQuota: 0n, cpuShares: 2n, memoryLimitInBytes: 0n, oomScoreAdj: 1000n },
      securityContext: { namespaceOptions: { network: cri.NamespaceMode.POD, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD } },
    },
  };
}

/**
 * One pod and its container from scratch, then removed, timed as one (wall ms). Checked afterwards, untimed: the
 * container ran and exited 0 on SIGTERM, the pod was READY with an IP in the side's subnet.
 * @throws Error naming the step that failed or the check that did not hold
 */
export async function podFromScratch(t: ScratchTarget, name: string): Promise<number> {
  const rt = t.side.client.runtime;
  const opts = { timeoutMs: rpcTimeoutMs };
  const config = t.podConfig(name);
  const step = <T>(what: string, call: () => Promise<T>): Promise<T> =>
    call().catch((err: unknown) => { throw new Error(`${what} of pod ${name}: ${(err as Error).message}`, { cause: err }); });

  const started = performance.now();
  const { podSandboxId } = await step('RunPodSandbox', () => rt.runPodSandbox({ config }, opts));
  const { containerId } = await step('CreateContainer', () =>
    rt.createContainer({ podSandboxId, config: containerConfig(t, config, 'main'), sandboxConfig: config }, opts));
  await step('StartContainer', () => rt.startContainer({ containerId }, opts));
  const running = performance.now();
  await untilReady(path.join(config.logDirectory!, 'main', '0.log'), `container of pod ${name}`);
  const ready = performance.now();
  await step('StopContainer', () => rt.stopContainer({ containerId, timeout: stopTimeoutSeconds }, opts));
  const stopped = performance.now();
  // Read between the timed calls and subtracted: the checks are not part of the life being measured.
  const [{ status: ctr }, { status: pod }] = await Promise.all([
    step('ContainerStatus', () => rt.containerStatus({ containerId }, opts)),
    step('PodSandboxStatus', () => rt.podSandboxStatus({ podSandboxId }, opts)),
  ]);
  const resumed = performance.now();
  await step('RemoveContainer', () => rt.removeContainer({ containerId }, opts));
  await step('StopPodSandbox', () => rt.stopPodSandbox({ podSandboxId }, opts));
  await step('RemovePodSandbox', () => rt.removePodSandbox({ podSandboxId }, opts));
  const ms = performance.now() - started - (resumed - stopped) - (ready - running);

  if (ctr?.state !== cri.ContainerState.CONTAINER_EXITED || ctr.exitCode !== 0 || ctr.startedAt === 0n) {
    throw new Error(`container of pod ${name} did not run and exit 0 on SIGTERM: state ${ctr?.state}, exit code ${ctr?.exitCode}, reason "${ctr?.reason}"`);
  }
  const ip = pod?.network?.ip ?? '';
  if (pod?.state !== cri.PodSandboxState.SANDBOX_READY || !t.contains(ip)) {
    throw new Error(`pod ${name} was not READY with an IP in its subnet before StopPodSandbox: state ${pod?.state}, IP "${ip}"`);
  }
  return ms;
}
