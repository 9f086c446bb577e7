import { inject, injectable } from 'inversify';
import type { Any } from '@crikit/api';
import {
  ImageLookup, InvalidArgumentError, Logger, NotFoundError, SandboxStore, type ContainerCreateRequest, type ContainerId,
} from '@crikit/core';
import { ContainerCreator } from '../container-create.js';
import { ContainerLifecycle } from '../container-lifecycle.js';
import { CheckpointImageFinder } from './checkpoint-image-finder.js';
import { CheckpointImages } from './checkpoint-images.js';
import { archiveSource, type CheckpointSource } from './checkpoint-source.js';
import { CriuProbe } from './criu-probe.js';
import { baseImageOf, namesArchive, readCheckpointMetadata, restoredConfig, type CheckpointMetadata } from './restore-config.js';

/**
 * Restores containers from checkpoints, as containerd 2.x and CRI-O do: a CreateContainer whose
 * image is the path of a checkpoint archive, or a checkpoint image (an OCI image annotated
 * `io.kubernetes.cri-o.annotations.checkpoint.name` whose layer holds an archive's files), creates
 * the container on the checkpoint's base image, with
 * the archive's rootfs changes applied and criu's images kept aside (CheckpointImages); its
 * StartContainer then creates the task with runc options pointing criu at them, so the shim runs
 * `runc restore` instead of `runc create`.
 */
@injectable()
export class CheckpointRestorer {
  constructor(
    @inject(ContainerCreator) private readonly creator: ContainerCreator,
    @inject(ContainerLifecycle) private readonly lifecycle: ContainerLifecycle,
    @inject(CheckpointImages) private readonly images: CheckpointImages,
    @inject(CheckpointImageFinder) private readonly checkpointImages: CheckpointImageFinder,
    @inject(SandboxStore) private readonly sandboxes: SandboxStore,
    @inject(ImageLookup) private readonly imageLookup: ImageLookup,
    @inject(CriuProbe) private readonly criu: CriuProbe,
    @inject(Logger) private readonly log: Logger,
  ) {}

  /**
   * True when CreateContainer's image names a checkpoint: an archive (a file) or a checkpoint image.
   */
  async isCheckpoint(image: string, signal: AbortSignal): Promise<boolean> {
    return (await namesArchive(image)) || (await this.checkpointImages.find(image, signal)) !== undefined;
  }

  /**
   * Creates a container from the checkpoint `request.config.image.image` names into the request's pod.
   * @throws InvalidArgumentError for a bad checkpoint; NotFoundError when the checkpoint's base
   *   image is not present; FailedPreconditionError when criu cannot work here
   */
  async create(request: ContainerCreateRequest, signal: AbortSignal): Promise<ContainerId> {
    const ref = request.config.image?.image ?? '';
    if (await namesArchive(ref)) return this.createFrom(request, archiveSource(ref), signal);
    const image = await this.checkpointImages.find(ref, signal);
    if (!image) throw new InvalidArgumentError(`create container ${request.config.metadata?.name ?? ''}: ${ref} is not a checkpoint`);
    return this.checkpointImages.open(image, ref, signal, source => this.createFrom(request, source, signal));
  }

  private async createFrom(request: ContainerCreateRequest, source: CheckpointSource, signal: AbortSignal): Promise<ContainerId> {
    const archive = request.config.image?.image ?? '';
    const what = `create container ${request.config.metadata?.name ?? ''} from ${source.name}`;
    // What the request and the checkpoint say is checked first, so it is refused alike on every host.
    const meta = await readCheckpointMetadata(source, signal);
    const image = this.baseImage(meta, what);
    await this.criu.require(what);
    const podUid = this.sandboxes.get(request.sandboxId).metadata.config.metadata?.uid ?? '';
    const id = await this.creator.create({ ...request, config: restoredConfig(request.config, meta, image, podUid, archive) }, signal);
    try {
      await this.images.install(id, source, signal);
    } catch (err) {
      await this.lifecycle.remove(id, AbortSignal.timeout(60_000)).catch(e => this.log.warn({ container: id, err: e }, 'remove container after a failed restore'));
      throw err;
    }
    this.log.info({ container: id, checkpoint: source.name, checkpointOf: meta.config.id }, 'container created from checkpoint');
    return id;
  }

  /** See CheckpointImages.taskOptions: undefined unless container `id` is to be restored. */
  taskOptions(id: ContainerId, signal: AbortSignal): Promise<Any | undefined> {
    return this.images.taskOptions(id, signal);
  }

  /** The restored task started: criu's images are spent. (After a failed start they stay, with criu's restore.log, until the container goes.) */
  restored(id: ContainerId): Promise<void> {
    return this.images.forget(id);
  }

  private baseImage(meta: CheckpointMetadata, what: string): string {
    const candidates = [meta.status.image?.image, meta.config.rootfsImageName, meta.config.rootfsImageRef, meta.config.rootfsImage];
    for (const ref of candidates) {
      if (!ref) continue;
      try {
        if (this.imageLookup.find(ref)) return ref;
      } catch (err) {
        if (!(err instanceof InvalidArgumentError)) throw err;
      }
    }
    const base = baseImageOf(meta);
    if (!base) throw new InvalidArgumentError(`${what}: the archive names no base image`);
    // containerd 2.x pulls it; crikit's container service cannot, so the kubelet (or crictl) must.
    throw new NotFoundError(`${what}: the checkpoint's base image ${base} is not present; pull it first`);
  }
}
