import { inject, injectable, optional } from 'inversify';
import { ContainerdClient, decodeOciImageConfig, FailedPreconditionError, ImageStore, Logger, StartOrder, type Startable } from '@crikit/core';
import { ContentWriter } from './content-writer.js';
import { DirectBlobWriter } from './direct-blob-writer.js';
import { ContentStoreDir } from './image-config.js';
import { parseImageManifest, type Descriptor } from './image-manifest.js';
import { managedImageLabel, pinnedImageLabel } from './image-names.js';
import { imageRecordFrom } from './image-record-of.js';
import { selectPlatformManifest } from './platform-select.js';
import { storeImage } from './store-image.js';

/**
 * Rebuilds the image store from containerd at start-up: every image crikit recorded (labelled
 * `io.cri-containerd.image=managed`), read back from the content store, its names grouped by id.
 * An image whose content cannot be read is logged and left out, as containerd's CRI does. Removes the
 * unfinished direct downloads a killed crikitd left (see DirectBlobWriter) first.
 */
@injectable()
export class ImageRecovery implements Startable {
  readonly startName = 'image recovery';
  readonly startOrder = StartOrder.recovery;
  private readonly blobs: ContentWriter;

  constructor(
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(ImageStore) private readonly store: ImageStore,
    @inject(Logger) private readonly log: Logger,
    @inject(ContentStoreDir) @optional() private readonly contentDir?: string,
  ) {
    this.blobs = new ContentWriter(containerd);
  }

  async start(signal: AbortSignal): Promise<void> {
    // Downloads a crikitd that died left in the content store directory; no pull runs yet.
    if (this.contentDir !== undefined) await new DirectBlobWriter(this.contentDir, this.blobs).sweep();
    const { images } = await this.containerd.images.list({ filters: [`labels."${managedImageLabel}"==managed`] }, { signal });
    const byTarget = new Map<string, { target: Descriptor; names: string[]; pinned: boolean }>();
    for (const image of images) {
      if (!image.target) continue;
      const target = { mediaType: image.target.mediaType, digest: image.target.digest, size: Number(image.target.size) };
      const entry = byTarget.get(target.digest) ?? { target, names: [] as string[], pinned: false };
      entry.pinned ||= image.labels[pinnedImageLabel] === 'pinned';
      entry.names.push(image.name);
      byTarget.set(target.digest, entry);
    }
    for (const { target, names, pinned } of byTarget.values()) {
      try {
        await this.recover(target, names, pinned, signal);
      } catch (err) {
        this.log.warn({ names, target: target.digest, err }, 'image not recovered');
      }
    }
    this.log.info({ images: this.store.size }, 'images recovered');
  }

  async stop(): Promise<void> {}

  private async recover(target: Descriptor, names: string[], pinned: boolean, signal: AbortSignal): Promise<void> {
    const what = `recover image ${names[0] ?? target.digest}`;
    let manifestDesc = target;
    let parsed = parseImageManifest(await this.blobs.read(target.digest, signal), what, target.mediaType);
    if (parsed.kind === 'index') {
      manifestDesc = selectPlatformManifest(names[0] ?? target.digest, parsed.index);
      parsed = parseImageManifest(await this.blobs.read(manifestDesc.digest, signal), what, manifestDesc.mediaType);
    }
    if (parsed.kind !== 'manifest') throw new FailedPreconditionError(`${what}: an index inside an index`);
    const manifest = parsed.manifest;
    const spec = decodeOciImageConfig(JSON.parse((await this.blobs.read(manifest.config.digest, signal)).toString('utf8')));
    const record = imageRecordFrom({
      manifest, manifestSize: manifestDesc.size, spec,
      repoTags: names.filter(n => !n.startsWith('sha256:') && !n.includes('@')),
      repoDigests: names.filter(n => n.includes('@')),
      pinned,
    });
    // Two targets (an index and its manifest, say) may carry the same config: one image, all names.
    storeImage(this.store, record);
  }
}
