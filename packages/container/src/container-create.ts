import { randomBytes } from 'node:crypto';
import { inject, injectable, optional } from 'inversify';
import { cri } from '@crikit/api';
import {
  nowNs, CleanupStack, containerName, deadline, JoinableAttempts, containerdRuntime, ContainerdClient, ContainerStore,
  containerRecordOf, CrikitKeys, encodeContainerMetadata, encodeContainerStatus, FailedPreconditionError, ImageLookup,
  initialContainerStatus, InvalidArgumentError, jsonAny, Logger, PathsConfig, RemappedSnapshots, RuntimeEventBus, RuntimeFeatures, runtimeHandler,
  RuntimesConfig, sandboxPaths, SandboxStore, Snapshotter, CgroupConfig, UndoRetries, withLease, type ContainerCreateRequest,
  type ContainerId, type ContainerMetadata, type ContainerRecord, type ImageRecord, type SandboxRecord,
} from '@crikit/core';
import { loadLocalhostSeccompProfile, toSpecAny, type UserDb } from '@crikit/oci';
import { ContainerConfig } from './container-config.js';
import { containerLogPath } from './container-log-path.js';
import { ContainerInspection } from './container-inspection.js';
import { HostFactsProvider } from './host-facts-provider.js';
import { planImageVolumes } from './image-volume-plan.js';
import { ImageVolumes, type MountedImageVolumes } from './image-volumes.js';
import { prepareHostDevices, StatHostDevices } from './host-devices.js';
import { prepareHostMounts } from './host-mounts.js';
import { readRootfsUserDb, rootfsMountsDir } from './rootfs-user-db.js';
import { buildContainerSpec } from './spec/build-container-spec.js';
import { applyCdiEdits } from './cdi/apply-cdi-edits.js';
import { CdiRegistry } from './cdi/cdi-registry.js';
import { containerSeccompProfilePath } from './spec/container-security.js';
import { containerUserNamespace, usernsSupportOf, type UsernsSupport } from './spec/container-userns.js';

const rollbackMs = 60_000;
/** How long reading an image's /etc/passwd and /etc/group (mount, read, unmount) may take. */
const userDbTimeoutMs = 30_000;
/**
 * How long one CreateContainer attempt may take. It runs under its own deadline, not the
 * caller's: a kubelet that gives up retries, and the retry joins the attempt (JoinableAttempts).
 */
const attemptTimeoutMs = 4 * 60_000;
/** How long the container of an attempt whose caller went away waits for the kubelet's retry. */
const keepUncollectedMs = 10 * 60_000;

/**
 * CreateContainer: the rootfs snapshot from the image, the OCI spec from image + CRI config +
 * sandbox, the containerd container carrying crikit's metadata. A failure undoes each step.
 */
@injectable()
export class ContainerCreator {
  private readonly devices = new StatHostDevices();
  /**
   * /etc/passwd and /etc/group by image chain id: a fresh snapshot holds exactly its image's files,
   * so the rootfs is mounted to read them only for the first container of each image.
   */
  private readonly userDbs = new Map<string, Promise<UserDb>>();
  private readonly attempts = new JoinableAttempts<ContainerId>(keepUncollectedMs);

  constructor(
    @inject(ContainerStore) private readonly store: ContainerStore,
    @inject(SandboxStore) private readonly sandboxes: SandboxStore,
    @inject(ImageLookup) private readonly images: ImageLookup,
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(RuntimeEventBus) private readonly bus: RuntimeEventBus,
    @inject(HostFactsProvider) private readonly host: HostFactsProvider,
    @inject(ContainerConfig) private readonly config: ContainerConfig,
    @inject(RuntimesConfig) private readonly runtimes: RuntimesConfig,
    @inject(CgroupConfig) private readonly cgroup: CgroupConfig,
    @inject(PathsConfig) private readonly paths: PathsConfig,
    @inject(Snapshotter) private readonly snapshotter: string,
    @inject(Logger) private readonly log: Logger,
    @inject(RuntimeFeatures) private readonly features: RuntimeFeatures,
    @inject(ContainerInspection) private readonly inspection: ContainerInspection,
    @inject(ImageVolumes) private readonly volumes: ImageVolumes,
    @inject(RemappedSnapshots) private readonly remapped: RemappedSnapshots,
    @inject(CdiRegistry) private readonly cdi: CdiRegistry,
    @inject(UndoRetries) @optional() private readonly undoRetries?: UndoRetries,
  ) {}

  /**
   * Creates a container; see core's ContainerManager.create. A retry of a request whose attempt
   * is still running (or finished after its caller went away) waits for it and returns its id.
   */
  async create(request: ContainerCreateRequest, signal: AbortSignal): Promise<ContainerId> {
    const meta = request.config.metadata;
    if (!meta?.name) return this.attempt(request, signal);
    const key = `${request.sandboxId}/${meta.name}/${meta.attempt}`;
    const fingerprint = JSON.stringify({ sandboxId: request.sandboxId, config: cri.ContainerConfig.toJSON(request.config) });
    return this.attempts.run(key, fingerprint, async () => {
      const limit = deadline([], attemptTimeoutMs);
      try {
        return await this.attempt(request, limit.signal);
      } finally {
        limit.dispose();
      }
    }, signal, `create container ${meta.name}`);
  }

  private async attempt(request: ContainerCreateRequest, signal: AbortSignal): Promise<ContainerId> {
    const config = request.config;
    if (!config.metadata?.name) throw new InvalidArgumentError('create container: config.metadata.name is required');
    if (!config.image?.image) throw new InvalidArgumentError(`create container ${config.metadata.name}: config.image.image is required`);
    const sandbox = this.sandboxes.get(request.sandboxId);
    const pod = sandbox.metadata.config.metadata!;
    const what = `create container ${config.metadata.name} in pod ${pod.namespace}/${pod.name}`;
    if (sandbox.status.state !== 'ready') throw new FailedPreconditionError(`${what}: the sandbox ${sandbox.metadata.id} is not ready`);
    const image = this.images.get(config.image.image);
    const { name: handlerName, handler } = runtimeHandler(this.runtimes, sandbox.metadata.runtimeHandler, what);
    const rro = (await this.features.report(signal)).handlers.find(h => h.name === handlerName)?.features.recursiveReadOnlyMounts ?? false;
    // Refused before anything is made. A container runs in its pod's user namespace, if any.
    const userns = containerUserNamespace(config, sandbox.metadata.config, await this.usernsSupport(handlerName, signal));
    // Checked before any host path is touched: an image volume has none.
    const imageVolumes = planImageVolumes(config, this.images, what);
    await prepareHostMounts(config.mounts, what);
    // CDI devices are resolved (and an unknown one refused) before anything is made.
    const cdiEdits = await this.cdi.resolveFor(config, signal);

    const id = randomBytes(32).toString('hex') as ContainerId;
    const name = containerName(config.metadata, pod);
    const log = this.log.child({ container: id, name, pod: `${pod.namespace}/${pod.name}` });
    const cleanup = new CleanupStack(log);
    try {
      this.store.reserveName(name, id);
      cleanup.push('release name', () => this.store.releaseName(id));
      const annotationPatterns = { pod: handler.podAnnotations, container: handler.containerAnnotations };
      const make = async (userDb: UserDb, volumes?: MountedImageVolumes): Promise<{ record: ContainerRecord; specJson: string }> => {
        const spec = applyCdiEdits(await this.spec(id, volumes ? { ...config, mounts: volumes.mounts } : config, image, sandbox, userDb, { rro, annotationPatterns }), cdiEdits);
        const metadata: ContainerMetadata = {
          version: 1, id, name, sandboxId: sandbox.metadata.id, config,
          imageRef: image.status.repoDigests[0] ?? image.metadata.id,
          imageId: image.metadata.id,
          logPath: containerLogPath(sandbox.metadata.config.logDirectory, config.logPath),
          stopSignal: image.metadata.spec.config.StopSignal ?? '',
          createdAt: nowNs(),
          user: spec.process?.user ? { uid: spec.process.user.uid, gid: spec.process.user.gid, additionalGids: spec.process.user.additionalGids ?? [] } : undefined,
        };
        const specAny = toSpecAny(spec);
        const status = { ...initialContainerStatus, resources: config.linux?.resources ? cri.ContainerResources.fromPartial({ linux: config.linux.resources }) : undefined };
        await this.containerd.containers.create({
          container: {
            id, image: image.status.repoTags[0] ?? image.metadata.id,
            labels: { ...config.labels, ...volumes?.labels, [CrikitKeys.kind]: 'container', 'io.cri-containerd.sandbox-id': sandbox.metadata.id },
            runtime: containerdRuntime(handler),
            spec: specAny,
            snapshotter: this.snapshotter, snapshotKey: id,
            extensions: {
              [CrikitKeys.containerMetadata]: jsonAny(CrikitKeys.containerMetadata, encodeContainerMetadata(metadata)),
              [CrikitKeys.containerStatus]: jsonAny(CrikitKeys.containerStatus, encodeContainerStatus(status)),
            },
          },
        }, { signal });
        cleanup.push('delete container', s => this.containerd.containers.delete({ id }, { signal: s }));
        return { record: containerRecordOf(metadata, status), specJson: Buffer.from(specAny.value).toString('utf8') };
      };
      const prepare = async (lease?: string): Promise<Parameters<typeof readRootfsUserDb>[0]> => {
        // In a user namespace on runc 1.1 the rootfs files must be owned by the namespace's ids: a remapped copy,
        // which goes on a failure after the snapshot's removal if this container was its only user.
        if (userns) cleanup.push('remove unused remapped snapshots', s => this.remapped.removeUnused(s));
        const { mounts } = userns
          ? { mounts: await this.remapped.prepare({ key: id, parent: image.metadata.chainId, userns, lease }, signal) }
          : await this.containerd.snapshots.prepare({ snapshotter: this.snapshotter, key: id, parent: image.metadata.chainId }, { signal, lease });
        cleanup.push('remove snapshot', s => this.containerd.snapshots.remove({ snapshotter: this.snapshotter, key: id }, { signal: s }));
        return mounts;
      };
      const knownUsers = this.userDbs.get(image.metadata.chainId);
      // With the image's users known, the rootfs need not be read: the containerd container is made
      // first and names its snapshot, which containerd's GC then never takes, so no lease is needed
      // (two containerd calls fewer). The first container of an image reads the users from its
      // rootfs, so there the snapshot comes first, under a lease until the container refers to it.
      // Image volumes are mounted before the spec names them, under the lease until the container's
      // GC labels refer to their snapshots.
      const { record, specJson } = knownUsers && imageVolumes.length === 0
        ? await make(await knownUsers).then(async made => { await prepare(); return made; })
        : await withLease(this.containerd, 'create', log, signal, async lease => {
          const volumes = imageVolumes.length > 0 ? await this.volumes.mount(id, config, imageVolumes, { lease, cleanup, signal, what }) : undefined;
          const rootfs = await prepare(lease);
          return make(knownUsers ? await knownUsers : await this.userDb(image, rootfs), volumes);
        });
      // Checked in the same tick as the record goes in: a StopPodSandbox or RemovePodSandbox that ran
      // meanwhile has already listed the pod's containers and would never see this one.
      const now = this.sandboxes.find(sandbox.metadata.id);
      const busy = now && this.sandboxes.operation(sandbox.metadata.id);
      if (!now || now.status.state !== 'ready' || busy) {
        throw new FailedPreconditionError(`${what}: the sandbox ${sandbox.metadata.id} ${!now ? 'was removed' : busy ? `is ${busy}` : 'stopped'} meanwhile`);
      }
      this.store.add(record);
      this.inspection.remember(id, { runtimeType: containerdRuntime(handler).name, snapshotter: this.snapshotter, snapshotKey: id, specJson });
      cleanup.clear();
      log.info({ image: config.image.image }, 'container created');
      this.bus.emit('container:created', record);
      return id;
    } catch (err) {
      // What containerd was not there to undo (container, snapshot) is tried again once it is back.
      const failed = await cleanup.run(AbortSignal.timeout(rollbackMs));
      this.undoRetries?.defer(`container ${id}`, failed);
      throw err;
    }
  }

  private async spec(
    id: ContainerId, config: cri.ContainerConfig, image: ImageRecord, sandbox: SandboxRecord, userDb: UserDb,
    handler: { rro: boolean; annotationPatterns: { pod: readonly string[]; container: readonly string[] } },
  ) {
    const facts = await this.host.facts();
    const profilePath = containerSeccompProfilePath(config, { seccompProfileRoot: this.config.seccompProfileRoot });
    const files = sandboxPaths(this.paths, sandbox.metadata.id);
    return buildContainerSpec({
      id, config,
      image: { name: config.image!.image, config: image.metadata.spec },
      sandbox: { id: sandbox.metadata.id, config: sandbox.metadata.config, pid: sandbox.status.pid, netnsPath: sandbox.metadata.netnsPath, files },
      userDb,
      devices: await prepareHostDevices(this.devices, config),
      localhostSeccomp: profilePath ? await loadLocalhostSeccompProfile(profilePath) : undefined,
      targetPid: this.targetPid(config),
      annotationPatterns: handler.annotationPatterns,
      options: {
        cgroupDriver: this.cgroup.driver, cgroupVersion: facts.cgroupVersion,
        restrictOomScoreAdj: this.runtimes.restrictOomScoreAdj, ownOomScoreAdj: facts.ownOomScoreAdj,
        hostHasAppArmor: facts.hasAppArmor, runtimeDefaultSeccomp: this.config.seccompDefault,
        seccompProfileRoot: this.config.seccompProfileRoot,
        // What Status advertises for the pod's handler: `rro` declared by its binary, kernel >= 5.12.
        supportsRecursiveReadOnly: handler.rro,
        swapControllerAvailable: facts.swapControllerAvailable, hugetlbControllerAvailable: facts.hugetlbControllerAvailable,
        nodeHostname: facts.hostname, deviceOwnershipFromSecurityContext: this.config.deviceOwnershipFromSecurityContext,
        hostCapabilities: facts.boundingCapabilities, containerdNamespace: this.containerd.namespace,
        userns: await this.usernsSupport(runtimeHandler(this.runtimes, sandbox.metadata.runtimeHandler, 'container spec').name),
      },
    });
  }

  /** What Status says the handler can do for user namespaces; probed once, so this is quick. */
  private async usernsSupport(handlerName: string, signal?: AbortSignal): Promise<UsernsSupport> {
    const limit = deadline(signal ? [signal] : [], 30_000);
    try {
      return usernsSupportOf((await this.features.report(limit.signal)).handlers.find(h => h.name === handlerName));
    } finally {
      limit.dispose();
    }
  }

  private userDb(image: ImageRecord, mounts: Parameters<typeof readRootfsUserDb>[0]): Promise<UserDb> {
    const key = image.metadata.chainId;
    let db = this.userDbs.get(key);
    if (!db) {
      // Shared by every create of this image, so no caller's signal ends it; its own deadline
      // does, and a failure (a hang included) is never kept.
      const limit = deadline([], userDbTimeoutMs);
      db = readRootfsUserDb(mounts, limit.signal, rootfsMountsDir(this.paths)).finally(() => limit.dispose());
      this.userDbs.set(key, db);
      db.catch(() => this.userDbs.delete(key));
    }
    return db;
  }

  // CRI: PID namespace mode TARGET joins another container's; it must be running.
  private targetPid(config: cri.ContainerConfig): number | undefined {
    const ns = config.linux?.securityContext?.namespaceOptions;
    if (ns?.pid !== cri.NamespaceMode.TARGET) return undefined;
    const target = this.store.get(ns.targetId);
    if (target.status.state !== 'running') throw new FailedPreconditionError(`create container: target container ${ns.targetId} is not running`);
    return target.status.pid;
  }
}
