import { randomBytes } from 'node:crypto';
import { inject, injectable } from 'inversify';
import {
  ContainerdClient, ImageLookup, InvalidArgumentError, isNotFound, Logger, Snapshotter, withLease, type ImageRecord,
} from '@crikit/core';
import { directorySource, type CheckpointSource } from './checkpoint-source.js';
import { withMountedRootfs } from './rootfs-diff.js';

/** The annotation that marks an OCI image as a container checkpoint (checkpointctl's CheckpointAnnotationName). */
export const checkpointAnnotation = 'io.kubernetes.cri-o.annotations.checkpoint.name';
/** The most of a manifest or index read to look for the annotation. */
const manifestMaxBytes = 4 * 1024 * 1024;

/**
 * Checkpoint images, as containerd 2.x and CRI-O restore them: an OCI image whose manifest (or
 * index) carries `io.kubernetes.cri-o.annotations.checkpoint.name`, its one layer holding a
 * checkpoint archive's files (what `buildah add` of the archive makes). Which images are
 * checkpoints is remembered by image id: an image's content never changes.
 */
@injectable()
export class CheckpointImageFinder {
  private readonly known = new Map<string, boolean>();

  constructor(
    @inject(ImageLookup) private readonly images: ImageLookup,
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(Snapshotter) private readonly snapshotter: string,
    @inject(Logger) private readonly log: Logger,
  ) {}

  /** The stored image `ref` names when it is a checkpoint image; undefined for any other (or none). */
  async find(ref: string, signal: AbortSignal): Promise<ImageRecord | undefined> {
    let record: ImageRecord | undefined;
    try {
      record = this.images.find(ref);
    } catch (err) {
      if (err instanceof InvalidArgumentError) return undefined;
      throw err;
    }
    if (!record) return undefined;
    let known = this.known.get(record.metadata.id);
    if (known === undefined) {
      known = await this.annotated(record, signal);
      this.known.set(record.metadata.id, known);
    }
    return known ? record : undefined;
  }

  /**
   * Runs `fn` with the checkpoint image's files: its rootfs on a read-only view snapshot (under a
   * lease), mounted on a temporary dir for the time of `fn`.
   */
  async open<T>(record: ImageRecord, ref: string, signal: AbortSignal, fn: (source: CheckpointSource) => Promise<T>): Promise<T> {
    return withLease(this.containerd, 'restore', this.log, signal, async lease => {
      const key = `crikit-restore-${record.metadata.id.replace(/^sha256:/, '').slice(0, 12)}-${randomBytes(4).toString('hex')}`;
      const { mounts } = await this.containerd.snapshots.view({ snapshotter: this.snapshotter, key, parent: record.metadata.chainId }, { signal, lease });
      try {
        return await withMountedRootfs(mounts, { readOnly: true }, signal, dir => fn(directorySource(dir, `checkpoint image ${ref}`)));
      } finally {
        await this.containerd.snapshots.remove({ snapshotter: this.snapshotter, key }, { signal: AbortSignal.timeout(30_000) })
          .catch(err => this.log.warn({ snapshot: key, err }, 'remove the view of a checkpoint image'));
      }
    });
  }

  /** True when the image's manifest or index names a checkpoint. */
  private async annotated(record: ImageRecord, signal: AbortSignal): Promise<boolean> {
    const name = record.status.repoTags[0] ?? record.status.repoDigests[0];
    if (!name) return false;
    try {
      const { image } = await this.containerd.images.get({ name }, { signal });
      const target = image?.target;
      if (!target || target.size > manifestMaxBytes) return false;
      const parts: Buffer[] = [];
      for await (const r of this.containerd.content.read({ digest: target.digest }, { signal })) parts.push(Buffer.from(r.data));
      const doc = JSON.parse(Buffer.concat(parts).toString('utf8')) as { annotations?: Record<string, string> };
      return typeof doc.annotations?.[checkpointAnnotation] === 'string';
    } catch (err) {
      if (isNotFound(err) || err instanceof SyntaxError) return false;
      throw err;
    }
  }
}
