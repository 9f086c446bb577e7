import { randomBytes } from 'node:crypto';
import { inject, injectable, optional } from 'inversify';
import { cri, type types } from '@crikit/api';
import {
  nowNs, CgroupConfig, CleanupStack, ContainerdClient, containerdRuntime, CrikitKeys, deadline, destroyTask, encodeSandboxMetadata,
  encodeSandboxStatus, ImageService, initialSandboxStatus, InvalidArgumentError, jsonAny, Logger, NetworkNamespaces, ProcessRunner,
  JoinableAttempts, PathsConfig, PodNetwork, RuntimeEventBus, runtimeHandler, RuntimesConfig, sandboxName, sandboxPaths,
  isNotFound, removeTaskLeftovers, sandboxRecordOf, specCgroupsPath, SandboxStore, Snapshotter, throwIfAborted, UndoRetries, writeExtension,
  sandboxUserNamespace, type ImageRecord, type PodUserNamespace, type SandboxId, type SandboxMetadata, type SandboxRecord,
} from '@crikit/core';
import { readOwnOomScoreAdj } from '@crikit/oci';
import { checkSysctls, namesInterface } from './sysctl-policy.js';
import { SandboxConfig } from './sandbox-config.js';
import { SandboxInspection } from './sandbox-inspection.js';
import { mountShm, removeSandboxFiles, removeSandboxState, writeSandboxFiles } from './sandbox-files.js';
import { pauseSpec, type PauseSpecSettings } from './pause-spec.js';
import { podRefOf } from './pod-ref.js';
import { SandboxUserNamespaces, type PodHostSharing } from './sandbox-userns.js';

/** How long an undo step of a failed RunPodSandbox may take. */
const rollbackMs = 60_000;
/**
 * How long one RunPodSandbox attempt may take. It runs under its own deadline, not the caller's:
 * a kubelet that gives up retries, and the retry joins the attempt (see JoinableAttempts).
 */
const attemptTimeoutMs = 4 * 60_000;
/** How long the sandbox of an attempt whose caller went away waits for the kubelet's retry. */
const keepUncollectedMs = 10 * 60_000;

/**
 * Runs `a` and `b` at once under one signal. When either fails, the other is aborted and awaited
 * (so every undo it pushed is there to run), and the first failure is thrown.
 */
async function bothOrNeither<A, B>(a: (s: AbortSignal) => Promise<A>, b: (s: AbortSignal) => Promise<B>, signal: AbortSignal): Promise<[A, B]> {
  const ac = new AbortController();
  const both = AbortSignal.any([signal, ac.signal]);
  const failFast = <T>(p: Promise<T>): Promise<T> => p.catch((err: unknown) => { ac.abort(err); throw err; });
  const [ra, rb] = await Promise.allSettled([failFast(a(both)), failFast(b(both))]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

/**
 * RunPodSandbox, step by step: each step pushes its undo, so a failure anywhere leaves nothing
 * behind (name, netns, IP, files, shm, containerd container, snapshot, task).
 */
@injectable()
export class SandboxRunner {
  private readonly attempts = new JoinableAttempts<SandboxId>(keepUncollectedMs);

  constructor(
    @inject(SandboxStore) private readonly store: SandboxStore,
    @inject(ImageService) private readonly images: ImageService,
    @inject(PodNetwork) private readonly network: PodNetwork,
    @inject(NetworkNamespaces) private readonly netns: NetworkNamespaces,
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(RuntimeEventBus) private readonly bus: RuntimeEventBus,
    @inject(SandboxConfig) private readonly config: SandboxConfig,
    @inject(PathsConfig) private readonly paths: PathsConfig,
    @inject(RuntimesConfig) private readonly runtimes: RuntimesConfig,
    @inject(CgroupConfig) private readonly cgroup: CgroupConfig,
    @inject(Snapshotter) private readonly snapshotter: string,
    @inject(Logger) private readonly log: Logger,
    @inject(SandboxInspection) private readonly inspection: SandboxInspection,
    @inject(UndoRetries) @optional() private readonly undoRetries?: UndoRetries,
    @inject(SandboxUserNamespaces) @optional() private readonly userns?: SandboxUserNamespaces,
    // Runs `mount` and `umount` of the shm (crikitd's spawn helper); from this process when not bound.
    @inject(ProcessRunner) @optional() private readonly runner?: ProcessRunner,
  ) {}

  /**
   * Runs a sandbox; see core's SandboxManager.run. A retry of a request whose attempt is still
   * running (or finished after its caller went away) waits for that attempt and returns its id.
   */
  async run(request: cri.RunPodSandboxRequest, signal: AbortSignal): Promise<SandboxId> {
    const meta = request.config?.metadata;
    if (!meta?.name || !meta.namespace || !meta.uid) return this.attempt(request, signal);
    const fingerprint = JSON.stringify(cri.RunPodSandboxRequest.toJSON(request));
    return this.attempts.run(sandboxName(meta), fingerprint, async () => {
      const limit = deadline([], attemptTimeoutMs);
      try {
        return await this.attempt(request, limit.signal);
      } finally {
        limit.dispose();
      }
    }, signal, `run pod sandbox ${meta.namespace}/${meta.name}`);
  }

  private async attempt(request: cri.RunPodSandboxRequest, signal: AbortSignal): Promise<SandboxId> {
    const config = request.config;
    const meta = config?.metadata;
    if (!config || !meta?.name || !meta.namespace || !meta.uid) {
      throw new InvalidArgumentError('run pod sandbox: config.metadata needs name, namespace and uid');
    }
    const what = `run pod sandbox ${meta.namespace}/${meta.name}`;
    const { handler } = runtimeHandler(this.runtimes, request.runtimeHandler, what);
    const ns = config.linux?.securityContext?.namespaceOptions;
    const hostNetwork = ns?.network === cri.NamespaceMode.NODE;
    const hostIpc = ns?.ipc === cri.NamespaceMode.NODE;
    const sysctls = checkSysctls(config.linux?.sysctls ?? {}, { hostNetwork, hostIpc, what });
    const userns = await this.podUserNamespace(config, request.runtimeHandler, { hostNetwork, hostIpc, hostPid: ns?.pid === cri.NamespaceMode.NODE, sysctls }, signal);

    const id = randomBytes(32).toString('hex') as SandboxId;
    const log = this.log.child({ sandbox: id, pod: `${meta.namespace}/${meta.name}` });
    const files = sandboxPaths(this.paths, id);
    const cleanup = new CleanupStack(log);
    try {
      this.store.reserveName(sandboxName(meta), id);
      cleanup.push('release name', () => this.store.releaseName(id));

      const pause = await this.pauseImage(signal);
      // The netns (a pod in a user namespace gets its netns from its pause, pinned once the task
      // exists) and the pod's files and shm mount: two spawns in the helper, at once.
      // Not cut short when the files fail: a netns pinned after its undo ran would stay.
      const makeNetns = async (): Promise<string | undefined> => {
        if (hostNetwork || userns) return undefined;
        const created = await this.netns.create(id, signal);
        cleanup.push('remove netns', u => this.netns.remove(created, u));
        return created;
      };
      const makeFiles = async (): Promise<void> => {
        cleanup.push('remove files', () => removeSandboxFiles(files));
        await writeSandboxFiles(files, config, hostNetwork);
        cleanup.push('remove shm', () => removeSandboxState(files, this.runner));
        if (!hostIpc) await mountShm(files, this.config.shmSizeBytes, this.runner);
        if (userns) await this.userns?.exposeFiles(files);
      };
      let [netnsPath] = await bothOrNeither(makeNetns, makeFiles, signal);

      let metadata: SandboxMetadata = {
        version: 1, id, name: sandboxName(meta), config, runtimeHandler: request.runtimeHandler, netnsPath,
        createdAt: nowNs(),
      };
      const specConfig = config.linux ? { ...config, linux: { ...config.linux, sysctls } } : config;
      const spec = await pauseSpec({ id, config: specConfig, image: pause, imageName: this.config.sandboxImage, files, netnsPath, settings: await this.specSettings(), podAnnotationPatterns: handler.podAnnotations, userns });
      const ready = { ...initialSandboxStatus, state: 'ready' as const };
      const attach = async (s: AbortSignal): Promise<readonly string[]> => {
        if (!netnsPath) return [];
        const pod = podRefOf(id, config, netnsPath);
        const { ips } = await this.network.attach(pod, s);
        cleanup.push('detach network', u => this.network.detach(pod, u));
        return ips;
      };
      // Each containerd step is cut short only by the caller's deadline, not when CNI fails meanwhile:
      // containerd would finish a step after its undo ran (a container, a snapshot, a task whose shim
      // outlives the pod). So each undo goes first, and what it finds missing is fine.
      const gone = (err: unknown) => { if (!isNotFound(err)) throw err; };
      // The pause's container record and its prepared rootfs (the snapshot's mounts).
      const preparePause = async (s: AbortSignal): Promise<types.Mount[]> => {
        throwIfAborted(s, 'create pause container');
        cleanup.push('delete container', u => this.containerd.containers.delete({ id }, { signal: u }).catch(gone));
        await this.containerd.containers.create({
          container: {
            id, image: pause.status.repoTags[0] ?? pause.metadata.id,
            labels: { ...config.labels, [CrikitKeys.kind]: 'sandbox' },
            runtime: containerdRuntime(handler),
            spec,
            snapshotter: this.snapshotter, snapshotKey: id,
            extensions: {
              [CrikitKeys.sandboxMetadata]: jsonAny(CrikitKeys.sandboxMetadata, encodeSandboxMetadata(metadata)),
              [CrikitKeys.sandboxStatus]: jsonAny(CrikitKeys.sandboxStatus, encodeSandboxStatus(ready)),
            },
          },
        }, { signal });
        throwIfAborted(s, 'prepare pause rootfs');
        // Runs after the snapshot's removal: a copy made for this pod alone goes with it.
        if (userns && this.userns) cleanup.push('remove unused remapped snapshots', u => this.userns!.removeUnusedCopies(u));
        cleanup.push('remove snapshot', u => this.containerd.snapshots.remove({ snapshotter: this.snapshotter, key: id }, { signal: u }).catch(gone));
        return userns && this.userns
          ? this.userns.prepareRootfs(id, pause.metadata.chainId, userns, signal)
          : (await this.containerd.snapshots.prepare({ snapshotter: this.snapshotter, key: id, parent: pause.metadata.chainId }, { signal })).mounts;
      };
      const createPauseTask = async (rootfs: types.Mount[]): Promise<void> => {
        throwIfAborted(signal, 'create pause task');
        // With what a task containerd lost track of left (containerd killed during the Create).
        cleanup.push('destroy task', u => destroyTask(this.containerd, id, u).then(() => removeTaskLeftovers(id, specCgroupsPath(spec.value))));
        const task = await this.containerd.tasks.create({ containerId: id, rootfs }, { signal });
        if (userns && this.userns) {
          const pinned = await this.userns.pinNetns(id, task.pid, signal);
          cleanup.push('remove netns', u => this.netns.remove(pinned, u));
          netnsPath = pinned;
          // Kept before CNI runs, so that a crikitd restart finds the netns with the pod.
          metadata = { ...metadata, netnsPath };
          await writeExtension(this.containerd, id, CrikitKeys.sandboxMetadata, encodeSandboxMetadata(metadata), signal);
        }
      };
      // CNI ADD needs only the pinned netns, so it overlaps the pause's container record and snapshot
      // (containerd's CRI runs them one after the other). Not the task's creation: on 2 cores the
      // plugins and the shim with runc, all process start-ups, slowed each other (CNI 70 → 140 ms, the
      // task 140 → 225 ms), and the overlap was slower than the two in turn. A sysctl of an interface
      // CNI makes can be set by runc only once that interface exists: then CNI goes first.
      let ips: readonly string[];
      if (userns) {
        await createPauseTask(await preparePause(signal));
        ips = await attach(signal);
      } else if (namesInterface(sysctls)) {
        ips = await attach(signal);
        await createPauseTask(await preparePause(signal));
      } else {
        const [attached, rootfs] = await bothOrNeither(attach, preparePause, signal);
        ips = attached;
        await createPauseTask(rootfs);
      }
      const status = { ...ready, ip: ips[0] ?? '', additionalIps: ips.slice(1) };
      // The addresses are kept before the pod runs: a crikitd restart finds them with the pod.
      if (ips.length > 0) await writeExtension(this.containerd, id, CrikitKeys.sandboxStatus, encodeSandboxStatus(status), signal);
      const { pid } = await this.containerd.tasks.start({ containerId: id }, { signal });

      const record: SandboxRecord = sandboxRecordOf(metadata, { ...status, pid });
      this.store.add(record);
      this.inspection.remember(id, { runtimeType: containerdRuntime(handler).name, specJson: Buffer.from(spec.value).toString('utf8') });
      cleanup.clear();
      log.info({ ips, pid }, 'sandbox ready');
      this.bus.emit('sandbox:created', record);
      this.bus.emit('sandbox:started', record);
      return id;
    } catch (err) {
      // What containerd was not there to undo (task, snapshot, container) is tried again once it is back.
      const failed = await cleanup.run(AbortSignal.timeout(rollbackMs));
      this.undoRetries?.defer(`sandbox ${id}`, failed);
      throw err;
    }
  }

  /** The pod's user namespace, checked (see SandboxUserNamespaces.check); none asked, none needed. */
  private async podUserNamespace(config: cri.PodSandboxConfig, handler: string, sharing: PodHostSharing, signal: AbortSignal): Promise<PodUserNamespace | undefined> {
    if (this.userns) return this.userns.check(config, handler, sharing, signal);
    if (sandboxUserNamespace(config)) throw new InvalidArgumentError('run pod sandbox: user namespaces are not available in this runtime');
    return undefined;
  }

  private settings: PauseSpecSettings | undefined;

  private async specSettings(): Promise<PauseSpecSettings> {
    this.settings ??= {
      cgroupDriver: this.cgroup.driver,
      restrictOomScoreAdj: this.runtimes.restrictOomScoreAdj,
      ownOomScoreAdj: await readOwnOomScoreAdj(),
      unprivilegedPorts: this.config.enableUnprivilegedPorts,
      unprivilegedIcmp: this.config.enableUnprivilegedIcmp,
      containerdNamespace: this.containerd.namespace,
      runtimeDefaultSeccomp: this.config.seccompDefault,
    };
    return this.settings;
  }

  // The pause image is pulled once and pinned, so the kubelet's image GC never takes it.
  private async pauseImage(signal: AbortSignal): Promise<ImageRecord> {
    const present = this.images.status(this.config.sandboxImage);
    if (present?.status.pinned) return present;
    return this.images.pull(this.config.sandboxImage, { pin: true }, signal);
  }
}
