import { constants as fsConstants, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { inject, injectable } from 'inversify';
import { packAny, runcOptions, unpackAny, type Any } from '@crikit/api';
import {
  ContainerdClient, ContainerStore, ImageLookup, InvalidArgumentError, Logger, NotFoundError, PathsConfig,
  RuntimeEventBus, SandboxStore, Snapshotter, StartOrder, type ContainerCreateRequest, type ContainerId, type ContainerRecord,
  type Startable,
} from '@crikit/core';
import { ContainerCreator } from '../container-create.js';
import { ContainerLifecycle } from '../container-lifecycle.js';
import { CheckpointFiles, readArchive } from './checkpoint-archive.js';
import { CriuProbe } from './criu-probe.js';
import { baseImageOf, namesArchive, readCheckpointMetadata, restoredConfig, type CheckpointMetadata } from './restore-config.js';
import { applyRootfsDiff } from './rootfs-diff.js';

const runcOptionsType = 'containerd.runc.v1.Options';

/**
 * Restores containers from checkpoint archives, as containerd 2.x and CRI-O do: a CreateContainer
 * whose image is the path of an archive creates the container on the checkpoint's base image with
 * the archive's rootfs changes applied and keeps criu's images under `<rootDir>/checkpoints/<id>`;
 * its StartContainer then creates the task with runc's options pointing criu at them, so the shim
 * runs `runc restore` instead of `runc create`. The images go once the restored task has started,
 * or with the container.
 */
@injectable()
export class CheckpointRestorer implements Startable {
  readonly startName = 'checkpoint restorer';
  readonly startOrder = StartOrder.services;
  private readonly onRemoved = (record: ContainerRecord): void => {
    void this.forget(record.metadata.id);
  };

  constructor(
    @inject(ContainerCreator) private readonly creator: ContainerCreator,
    @inject(ContainerLifecycle) private readonly lifecycle: ContainerLifecycle,
    @inject(ContainerStore) private readonly store: ContainerStore,
    @inject(SandboxStore) private readonly sandboxes: SandboxStore,
    @inject(ImageLookup) private readonly images: ImageLookup,
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(CriuProbe) private readonly criu: CriuProbe,
    @inject(PathsConfig) private readonly paths: PathsConfig,
    @inject(Snapshotter) private readonly snapshotter: string,
    @inject(RuntimeEventBus) private readonly bus: RuntimeEventBus,
    @inject(Logger) private readonly log: Logger,
  ) {}

  /** Listens for removed containers, and removes what a crikitd that died left under `checkpoints/`. */
  async start(): Promise<void> {
    this.bus.events.on('container:removed', this.onRemoved);
    for (const name of await fs.readdir(this.root()).catch(() => [] as string[])) {
      if (!this.store.find(name)) await fs.rm(path.join(this.root(), name), { recursive: true, force: true });
    }
  }

  async stop(): Promise<void> {
    this.bus.events.off('container:removed', this.onRemoved);
  }

  /** True when CreateContainer's image names a checkpoint archive (a file) rather than an image. */
  isArchive(image: string): Promise<boolean> {
    return namesArchive(image);
  }

  /**
   * Creates a container from the archive `request.config.image.image` into the request's pod.
   * @throws FailedPreconditionError when criu cannot work here; InvalidArgumentError for a bad
   *   archive; NotFoundError when the checkpoint's base image is not present
   */
  async create(request: ContainerCreateRequest, signal: AbortSignal): Promise<ContainerId> {
    const archive = request.config.image?.image ?? '';
    const what = `create container ${request.config.metadata?.name ?? ''} from checkpoint archive ${archive}`;
    // What the request and the archive say is checked first, so it is refused alike on every host.
    const meta = await readCheckpointMetadata(archive, signal);
    const image = this.baseImage(meta, what);
    await this.criu.require(what);
    const podUid = this.sandboxes.get(request.sandboxId).metadata.config.metadata?.uid ?? '';
    const id = await this.creator.create({ ...request, config: restoredConfig(request.config, meta, image, podUid, archive) }, signal);
    try {
      await this.install(id, archive, signal);
    } catch (err) {
      await this.lifecycle.remove(id, AbortSignal.timeout(60_000)).catch(e => this.log.warn({ container: id, err: e }, 'remove container after a failed restore'));
      throw err;
    }
    this.log.info({ container: id, archive, checkpointOf: meta.config.id }, 'container created from checkpoint');
    return id;
  }

  /**
   * The task options StartContainer passes to containerd's task Create: the handler's runc options
   * with criu's image and work paths; undefined for a container not created from a checkpoint.
   * @throws FailedPreconditionError when criu cannot work here
   */
  async taskOptions(id: ContainerId, signal: AbortSignal): Promise<Any | undefined> {
    const dir = this.dirOf(id);
    if (!(await fs.stat(path.join(dir, 'images')).catch(() => undefined))?.isDirectory()) return undefined;
    await this.criu.require(`restore container ${this.store.get(id).metadata.name}`);
    const { container } = await this.containerd.containers.get({ id }, { signal });
    const current = unpackAny(container?.runtime?.options, runcOptionsType, runcOptions.Options) ?? runcOptions.Options.fromPartial({});
    return packAny(runcOptionsType, runcOptions.Options, { ...current, criuImagePath: path.join(dir, 'images'), criuWorkPath: path.join(dir, 'work') });
  }

  /** The restored task started: criu's images are spent. (After a failed start they stay, with criu's restore.log, until the container goes.) */
  restored(id: ContainerId): Promise<void> {
    return this.forget(id);
  }

  private baseImage(meta: CheckpointMetadata, what: string): string {
    const candidates = [meta.status.image?.image, meta.config.rootfsImageName, meta.config.rootfsImageRef, meta.config.rootfsImage];
    for (const ref of candidates) {
      if (!ref) continue;
      try {
        if (this.images.find(ref)) return ref;
      } catch (err) {
        if (!(err instanceof InvalidArgumentError)) throw err;
      }
    }
    const base = baseImageOf(meta);
    if (!base) throw new InvalidArgumentError(`${what}: the archive names no base image`);
    // containerd 2.x pulls it; crikit's container service cannot, so the kubelet (or crictl) must.
    throw new NotFoundError(`${what}: the checkpoint's base image ${base} is not present; pull it first`);
  }

  /** Unpacks criu's images, applies the rootfs changes to the new snapshot and restores the CRI log. */
  private async install(id: ContainerId, archive: string, signal: AbortSignal): Promise<void> {
    const dir = this.dirOf(id);
    const images = path.join(dir, 'images');
    await fs.mkdir(images, { recursive: true, mode: 0o700 });
    await fs.mkdir(path.join(dir, 'work'), { mode: 0o700 });
    const layer = path.join(dir, CheckpointFiles.rootfsDiff);
    const logPath = this.store.get(id).metadata.logPath;
    const prefix = `${CheckpointFiles.checkpointDir}/`;
    let imageFiles = 0;
    let hasLayer = false;
    await readArchive(archive, {
      file: async (name, _size, body) => {
        if (name.startsWith(prefix) && !name.slice(prefix.length).includes('/')) {
          await pipeline(body, createWriteStream(path.join(images, name.slice(prefix.length)), { mode: 0o600 }));
          imageFiles++;
        } else if (name === CheckpointFiles.rootfsDiff) {
          await pipeline(body, createWriteStream(layer, { mode: 0o600 }));
          hasLayer = true;
        } else if (name === CheckpointFiles.containerLog && logPath) {
          // As containerd 2.x: the new container's log starts with the checkpointed one's. Never
          // through a link planted at the log path (the log writer opens it the same way).
          await fs.mkdir(path.dirname(logPath), { recursive: true });
          const log = await fs.open(logPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | fsConstants.O_NOFOLLOW, 0o640);
          await pipeline(body, log.createWriteStream());
        } else {
          return false;
        }
        return true;
      },
    }, signal);
    if (imageFiles === 0) throw new InvalidArgumentError(`checkpoint archive ${archive}: it has no criu images under ${prefix}`);
    if (hasLayer) {
      const { mounts } = await this.containerd.snapshots.mounts({ snapshotter: this.snapshotter, key: id }, { signal });
      const applied = await applyRootfsDiff(layer, mounts, signal);
      await fs.rm(layer, { force: true });
      this.log.debug({ container: id, ...applied }, 'applied the checkpoint rootfs diff');
    }
  }

  private async forget(id: string): Promise<void> {
    await fs.rm(this.dirOf(id), { recursive: true, force: true }).catch(err => this.log.warn({ container: id, err }, 'remove checkpoint images'));
  }

  private root(): string {
    return path.join(this.paths.rootDir, 'checkpoints');
  }

  private dirOf(id: string): string {
    return path.join(this.root(), id);
  }
}
