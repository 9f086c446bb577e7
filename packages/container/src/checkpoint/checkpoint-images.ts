import { constants as fsConstants, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { inject, injectable } from 'inversify';
import { packAny, runcOptions, unpackAny, type Any } from '@crikit/api';
import {
  ContainerdClient, ContainerStore, InvalidArgumentError, Logger, PathsConfig, RuntimeEventBus, Snapshotter, StartOrder,
  type ContainerId, type ContainerRecord, type Startable,
} from '@crikit/core';
import { CheckpointFiles, readJsonMember } from './checkpoint-archive.js';
import type { CheckpointSource } from './checkpoint-source.js';
import { CriuProbe } from './criu-probe.js';
import { applyRootfsDiff } from './rootfs-diff.js';

const runcOptionsType = 'containerd.runc.v1.Options';

/**
 * criu's images of the containers being restored, under `<rootDir>/checkpoints/<container id>/`
 * (`images/` for criu's files, `work/` for its restore.log): unpacked from an archive when the
 * container is created, handed to runc through the task options when it starts, removed once the
 * restored task started, or with the container. What a crikitd that died left there is removed at
 * the next start.
 */
@injectable()
export class CheckpointImages implements Startable {
  readonly startName = 'checkpoint images';
  readonly startOrder = StartOrder.services;
  private readonly onRemoved = (record: ContainerRecord): void => {
    void this.forget(record.metadata.id);
  };

  constructor(
    @inject(ContainerStore) private readonly store: ContainerStore,
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(CriuProbe) private readonly criu: CriuProbe,
    @inject(PathsConfig) private readonly paths: PathsConfig,
    @inject(Snapshotter) private readonly snapshotter: string,
    @inject(RuntimeEventBus) private readonly bus: RuntimeEventBus,
    @inject(Logger) private readonly log: Logger,
  ) {}

  /** Listens for removed containers; removes the dirs of containers no longer stored (and checkpoint staging dirs). */
  async start(): Promise<void> {
    this.bus.events.on('container:removed', this.onRemoved);
    for (const name of await fs.readdir(this.root()).catch(() => [] as string[])) {
      if (!this.store.find(name)) await fs.rm(path.join(this.root(), name), { recursive: true, force: true });
    }
  }

  async stop(): Promise<void> {
    this.bus.events.off('container:removed', this.onRemoved);
  }

  /**
   * Unpacks the checkpoint's criu images for container `id`, applies its rootfs changes to the
   * container's snapshot and writes its CRI log to the container's log path.
   * @throws InvalidArgumentError when the checkpoint has no criu images or a bad rootfs diff
   */
  async install(id: ContainerId, source: CheckpointSource, signal: AbortSignal): Promise<void> {
    const dir = this.dirOf(id);
    const images = path.join(dir, 'images');
    await fs.mkdir(images, { recursive: true, mode: 0o700 });
    await fs.mkdir(path.join(dir, 'work'), { recursive: true, mode: 0o700 });
    const layer = path.join(dir, CheckpointFiles.rootfsDiff);
    const logPath = this.store.get(id).metadata.logPath;
    const prefix = `${CheckpointFiles.checkpointDir}/`;
    let imageFiles = 0;
    let hasLayer = false;
    let deleted: string[] | undefined;
    await source.visit({
      file: async (name, size, body) => {
        if (name.startsWith(prefix) && !name.slice(prefix.length).includes('/')) {
          await pipeline(body, createWriteStream(path.join(images, name.slice(prefix.length)), { mode: 0o600 }));
          imageFiles++;
        } else if (name === CheckpointFiles.rootfsDiff) {
          await pipeline(body, createWriteStream(layer, { mode: 0o600 }));
          hasLayer = true;
        } else if (name === CheckpointFiles.deletedFiles) {
          const list = await readJsonMember(source.name, name, size, body);
          if (!Array.isArray(list) || !list.every(f => typeof f === 'string')) throw new InvalidArgumentError(`${source.name}: ${name} is not a list of paths`);
          deleted = list;
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
    if (imageFiles === 0) throw new InvalidArgumentError(`${source.name}: it has no criu images under ${prefix}`);
    if (hasLayer || deleted?.length) {
      const { mounts } = await this.containerd.snapshots.mounts({ snapshotter: this.snapshotter, key: id }, { signal });
      const applied = await applyRootfsDiff({ layer: hasLayer ? layer : undefined, deleted }, mounts, signal);
      await fs.rm(layer, { force: true });
      this.log.debug({ container: id, ...applied }, 'applied the checkpoint rootfs diff');
    }
  }

  /**
   * The task options StartContainer passes to containerd's task Create: the container's runc
   * options with criu's image and work paths, so the shim runs `runc restore`; undefined for a
   * container with no images here.
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

  /** Removes container `id`'s images. Idempotent; never throws. */
  async forget(id: string): Promise<void> {
    await fs.rm(this.dirOf(id), { recursive: true, force: true }).catch(err => this.log.warn({ container: id, err }, 'remove checkpoint images'));
  }

  private root(): string {
    return path.join(this.paths.rootDir, 'checkpoints');
  }

  private dirOf(id: string): string {
    return path.join(this.root(), id);
  }
}
