import path from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { EventEmitter } from 'eventemitter3';
import { cri, type PartialMessage } from '@crikit/api';
import type { CriClient } from '../support/cri-client.js';

/** A broken promise of the runtime's: a pod or container the kubelet was told exists went missing, or a wrong answer. */
export class ChaosViolation extends Error {}

/** What the driver needs: the current crikitd's client (it changes on every restart) and where things go. */
export interface KubeletDriverOptions {
  readonly client: () => CriClient;
  readonly image: string;
  readonly logRoot: string;
  readonly cgroupParent: string;
  readonly namespace: string;
  /** How long one step keeps retrying before the lifecycle fails. */
  readonly stepDeadlineMs: number;
  readonly log: (line: string) => void;
}

/** Counters of what the driver did. */
export interface DriverStats {
  lifecycles: number;
  execs: number;
  retries: number;
  /** Pods and containers the driver found but had not been told of (a reply lost to a fault), removed. */
  orphansRemoved: number;
  /** Pods adopted after a RunPodSandbox reply was lost (listed READY under the wanted name). */
  adopted: number;
  recreatedContainers: number;
}

/** A pod the driver was told exists (RunPodSandbox returned or it was adopted) and has not removed. */
interface LivePod {
  readonly id: string;
  readonly name: string;
  /** Set once RemovePodSandbox was sent: the pod may go at any moment. */
  removing: boolean;
  /** Set once StopPodSandbox was sent: the pod may be NOTREADY. */
  stopping: boolean;
}

const code = (err: unknown): number | undefined => (err as ServiceError).code;
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

/**
 * A kubelet-shaped driver of pod and container lifecycles through the CRI socket. Every step is retried
 * through faults as a kubelet's sync loop would: after an error it lists what exists, adopts what it
 * wanted, removes what it does not want, and tries again. It emits `step` (RPC name) before each call.
 */
export class KubeletDriver extends EventEmitter<{ step: [string] }> {
  readonly live = new Map<string, LivePod>();
  readonly stats: DriverStats = { lifecycles: 0, execs: 0, retries: 0, orphansRemoved: 0, adopted: 0, recreatedContainers: 0 };
  /** How long one step keeps retrying; starts as the options' stepDeadlineMs, shortened once a run has failed. */
  deadlineMs: number;

  constructor(private readonly o: KubeletDriverOptions) {
    super();
    this.deadlineMs = o.stepDeadlineMs;
  }

  /** One full lifecycle: pull, run pod, create/start container, exec, stop/remove container, stop/remove pod. */
  async lifecycle(name: string, keep = false): Promise<string> {
    await this.retry(`PullImage ${this.o.image}`, c => c.image.pullImage({ image: { image: this.o.image } }));
    const { id, config } = await this.runPod(name);
    const containerId = await this.runContainer(id, config, name);
    const word = `chaos-${name}`;
    const out = await this.retry(`ExecSync in ${containerId} (${name})`, async c => {
      const r = await c.runtime.execSync({ containerId, cmd: ['echo', word], timeout: 10 }, { timeoutMs: 20_000 });
      if (r.exitCode !== 0) throw Object.assign(new Error(`exit code ${r.exitCode}: ${Buffer.from(r.stderr).toString()}`), { code: -1 });
      return Buffer.from(r.stdout).toString();
    });
    this.stats.execs++;
    if (out !== `${word}\n`) throw new ChaosViolation(`ExecSync in ${containerId} (${name}) answered ${JSON.stringify(out)}`);
    if (keep) return id;
    await this.teardown(id, containerId, name);
    this.stats.lifecycles++;
    return id;
  }

  /** Stops and removes the container, then the pod. */
  async teardown(podId: string, containerId: string | undefined, name: string): Promise<void> {
    if (containerId !== undefined) {
      await this.retry(`StopContainer ${containerId} (${name})`, c => c.runtime.stopContainer({ containerId, timeout: 1 }));
      await this.retryGone(`RemoveContainer ${containerId} (${name})`, c => c.runtime.removeContainer({ containerId }));
    }
    const pod = this.live.get(podId);
    if (pod) pod.stopping = true;
    await this.retry(`StopPodSandbox ${podId} (${name})`, c => c.runtime.stopPodSandbox({ podSandboxId: podId }));
    if (pod) pod.removing = true;
    await this.retryGone(`RemovePodSandbox ${podId} (${name})`, c => c.runtime.removePodSandbox({ podSandboxId: podId }));
    this.live.delete(podId);
  }

  /**
   * Checks the runtime's promises: every live pod is listed and has a status; those not being stopped
   * are READY. Throws ChaosViolation naming what is missing.
   */
  async verifyLive(when: string): Promise<void> {
    const listed = await this.retry('ListPodSandbox', c => c.runtime.listPodSandbox({}));
    const byId = new Map(listed.items.map(p => [p.id, p]));
    for (const pod of [...this.live.values()]) {
      if (pod.removing) continue;
      const seen = byId.get(pod.id);
      if (!seen && this.live.get(pod.id)?.removing === false) {
        throw new ChaosViolation(`${when}: pod ${pod.id} (${pod.name}) was told to exist and was not removed, but ListPodSandbox does not list it`);
      }
      if (seen && !pod.stopping && seen.state !== cri.PodSandboxState.SANDBOX_READY && !this.live.get(pod.id)?.stopping) {
        throw new ChaosViolation(`${when}: pod ${pod.id} (${pod.name}) is listed ${cri.PodSandboxState[seen.state]}, though nothing stopped it`);
      }
    }
  }

  /** As a kubelet that wants no pods: removes every pod crikit lists. Resolves with how many were not the driver's. */
  async removeEverything(): Promise<number> {
    const listed = await this.retry('ListPodSandbox', c => c.runtime.listPodSandbox({}));
    let unknown = 0;
    for (const p of listed.items) {
      if (!this.live.has(p.id)) unknown++;
      const containers = await this.retry('ListContainers', c => c.runtime.listContainers({ filter: { podSandboxId: p.id } }));
      for (const k of containers.containers) await this.teardownContainer(k.id, p.metadata?.name ?? p.id);
      await this.teardown(p.id, undefined, p.metadata?.name ?? p.id);
    }
    this.stats.orphansRemoved += unknown;
    return unknown;
  }

  private async runPod(name: string): Promise<{ id: string; config: PartialMessage<cri.PodSandboxConfig> }> {
    for (let attempt = 0; ; attempt++) {
      const config = this.podConfig(name, attempt);
      try {
        this.emit('step', 'RunPodSandbox');
        const { podSandboxId } = await this.o.client().runtime.runPodSandbox({ config }, { timeoutMs: 60_000 });
        this.live.set(podSandboxId, { id: podSandboxId, name, removing: false, stopping: false });
        return { id: podSandboxId, config };
      } catch (err) {
        this.stats.retries++;
        if (attempt > 0 && attempt * 1_000 > this.deadlineMs) throw new Error(`RunPodSandbox ${name}: ${(err as Error).message}`);
        this.o.log(`RunPodSandbox ${name} (attempt ${attempt}): ${(err as Error).message}`);
        await sleep(500);
        // What the lost call may have made: a READY pod of this name is adopted, anything else removed.
        const found = await this.retry('ListPodSandbox', c => c.runtime.listPodSandbox({ filter: { labelSelector: { 'chaos.name': name } } }));
        const ready = found.items.find(p => p.state === cri.PodSandboxState.SANDBOX_READY);
        for (const p of found.items) {
          if (p === ready) continue;
          this.stats.orphansRemoved++;
          await this.teardown(p.id, undefined, name);
        }
        if (ready) {
          this.stats.adopted++;
          this.live.set(ready.id, { id: ready.id, name, removing: false, stopping: false });
          return { id: ready.id, config: this.podConfig(name, ready.metadata?.attempt ?? attempt) };
        }
      }
    }
  }

  private async runContainer(podSandboxId: string, sandboxConfig: PartialMessage<cri.PodSandboxConfig>, name: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const config: PartialMessage<cri.ContainerConfig> = {
        metadata: { name: 'work', attempt }, image: { image: this.o.image }, command: ['sleep', '3600'],
        logPath: `work-${attempt}.log`, labels: { 'chaos.name': name },
      };
      let containerId: string | undefined;
      try {
        this.emit('step', 'CreateContainer');
        containerId = (await this.o.client().runtime.createContainer({ podSandboxId, config, sandboxConfig }, { timeoutMs: 60_000 })).containerId;
      } catch (err) {
        this.stats.retries++;
        if (code(err) === status.NOT_FOUND && /sandbox|pod/i.test((err as Error).message)) {
          throw new ChaosViolation(`CreateContainer in live pod ${podSandboxId} (${name}): ${(err as Error).message}`);
        }
        if (attempt * 1_000 > this.deadlineMs) throw new Error(`CreateContainer in ${podSandboxId} (${name}): ${(err as Error).message}`);
        this.o.log(`CreateContainer in ${podSandboxId} (${name}, attempt ${attempt}): ${(err as Error).message}`);
        await sleep(500);
        const found = await this.retry('ListContainers', c => c.runtime.listContainers({ filter: { podSandboxId, labelSelector: { 'chaos.name': name } } }));
        for (const k of found.containers) { this.stats.orphansRemoved++; await this.teardownContainer(k.id, name); }
        continue;
      }
      if (await this.start(containerId, name)) return containerId;
      this.stats.recreatedContainers++;
      await this.teardownContainer(containerId, name);
    }
  }

  /** Starts the container; false when it ended up EXITED (a start cut short), to be removed and made again. */
  private async start(containerId: string, name: string): Promise<boolean> {
    const deadline = Date.now() + this.deadlineMs;
    for (;;) {
      try {
        this.emit('step', 'StartContainer');
        await this.o.client().runtime.startContainer({ containerId }, { timeoutMs: 60_000 });
        return true;
      } catch (err) {
        this.stats.retries++;
        this.o.log(`StartContainer ${containerId} (${name}): ${(err as Error).message}`);
        if (Date.now() > deadline) throw new Error(`StartContainer ${containerId} (${name}): ${(err as Error).message}`);
        await sleep(500);
        const s = await this.retry(`ContainerStatus ${containerId}`, c => c.runtime.containerStatus({ containerId }));
        if (s.status?.state === cri.ContainerState.CONTAINER_RUNNING) return true;
        if (s.status?.state !== cri.ContainerState.CONTAINER_CREATED) return false;
      }
    }
  }

  private async teardownContainer(containerId: string, name: string): Promise<void> {
    await this.retryGone(`StopContainer ${containerId} (${name})`, c => c.runtime.stopContainer({ containerId, timeout: 0 }));
    await this.retryGone(`RemoveContainer ${containerId} (${name})`, c => c.runtime.removeContainer({ containerId }));
  }

  /** Calls `fn` on the current client until it succeeds or the step's deadline passes. */
  async retry<T>(what: string, fn: (c: CriClient) => Promise<T>): Promise<T> {
    return (await this.attempt(what, fn, false))!;
  }

  /** As retry, but NOT_FOUND after an earlier failed try counts as done (that try's reply was lost, not its work). */
  async retryGone<T>(what: string, fn: (c: CriClient) => Promise<T>): Promise<T | undefined> {
    return this.attempt(what, fn, true);
  }

  private async attempt<T>(what: string, fn: (c: CriClient) => Promise<T>, goneIsDone: boolean): Promise<T | undefined> {
    const deadline = Date.now() + this.deadlineMs;
    for (let tries = 0; ; tries++) {
      try {
        this.emit('step', what.split(' ')[0]!);
        return await fn(this.o.client());
      } catch (err) {
        if (goneIsDone && code(err) === status.NOT_FOUND && tries > 0) return undefined;
        if (code(err) === status.NOT_FOUND) throw new ChaosViolation(`${what}: ${(err as Error).message}`);
        if (Date.now() > deadline) throw new Error(`${what} kept failing for ${this.deadlineMs} ms: ${(err as Error).message}`);
        this.stats.retries++;
        if (tries % 5 === 0) this.o.log(`${what}: ${(err as Error).message} (retrying)`);
        await sleep(300 + 200 * Math.min(tries, 5));
      }
    }
  }

  private podConfig(name: string, attempt: number): PartialMessage<cri.PodSandboxConfig> {
    return {
      metadata: { name, namespace: this.o.namespace, uid: `uid-${this.o.namespace}-${name}`, attempt },
      hostname: name.slice(0, 60),
      logDirectory: path.join(this.o.logRoot, name),
      labels: { 'chaos.name': name },
      linux: { cgroupParent: this.o.cgroupParent, securityContext: { namespaceOptions: { network: cri.NamespaceMode.POD, pid: cri.NamespaceMode.CONTAINER, ipc: cri.NamespaceMode.POD } } },
    };
  }
}
