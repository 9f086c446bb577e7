import { Readable } from 'node:stream';
import { inject, injectable } from 'inversify';
import { ContainerdClient, decodeOciImageConfig, ImageStore, Logger, RuntimeEventBus, withLease, type ImageRecord } from '@crikit/core';
import { readEntry, walkArchive } from './archive-reader.js';
import { planArchive, type ArchiveImage } from './archive-plan.js';
import { ContentWriter } from './content-writer.js';
import { gcLabels } from './gc-labels.js';
import { ImageConfig } from './image-config.js';
import { recordImage } from './image-names.js';
import { imageRecordFrom } from './image-record-of.js';
import { LayerUnpacker } from './layer-unpacker.js';
import { storeImage } from './store-image.js';

/** Files up to this size are kept in memory while an archive is planned (manifests, configs). */
const smallFileBytes = 4 << 20;

/**
 * Loads `docker save` archives and OCI image layouts (as tar files) into containerd and the image
 * store, like `ctr images import`: blobs into the content store, layers unpacked, names recorded.
 * Reads the archive twice: once for its documents, once to stream its layers.
 */
@injectable()
export class ImageImporter {
  private readonly blobs: ContentWriter;
  private readonly unpacker: LayerUnpacker;

  constructor(
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(ImageStore) private readonly store: ImageStore,
    @inject(ImageConfig) private readonly config: ImageConfig,
    @inject(RuntimeEventBus) private readonly bus: RuntimeEventBus,
    @inject(Logger) private readonly log: Logger,
  ) {
    this.blobs = new ContentWriter(containerd);
    this.unpacker = new LayerUnpacker(containerd, config.snapshotter, log);
  }

  /**
   * Imports every image in the tar archive at `file`.
   * @returns the stored images
   * @throws InvalidArgumentError when the file is not such an archive; FailedPreconditionError when
   * its content does not match its digests
   */
  async import(file: string, signal: AbortSignal): Promise<ImageRecord[]> {
    const small = new Map<string, Buffer>();
    const sizes = new Map<string, number>();
    await walkArchive(file, signal, async entry => {
      sizes.set(entry.path, entry.size);
      if (entry.size <= smallFileBytes) small.set(entry.path, await readEntry(entry));
    });
    const plan = planArchive(file, small, sizes);
    return withLease(this.containerd, 'import', this.log, signal, async lease => {
      await this.writeLayers(file, plan, lease, signal);
      const records: ImageRecord[] = [];
      for (const image of plan) records.push(await this.finish(file, image, lease, signal));
      return records;
    });
  }

  // Second pass: stream every layer blob the plan needs into the content store.
  private async writeLayers(file: string, plan: ArchiveImage[], lease: string, signal: AbortSignal): Promise<void> {
    const wanted = new Map<string, { digest: string; size: number; diffId: string }>();
    for (const image of plan) {
      const spec = decodeOciImageConfig(JSON.parse(image.smallBlobs.get(image.manifest.config.digest)!.toString('utf8')));
      image.manifest.layers.forEach((l, i) => wanted.set(image.layerPaths[i]!, { digest: l.digest, size: l.size, diffId: spec.rootfs?.diff_ids[i] ?? '' }));
    }
    await walkArchive(file, signal, async entry => {
      const blob = wanted.get(entry.path);
      if (!blob || await this.blobs.has(blob.digest, signal)) return;
      const data = entry.size <= smallFileBytes ? await readEntry(entry) : undefined;
      await this.blobs.write(`import-${blob.digest}`, blob, async offset => {
        if (data) return Readable.from([data.subarray(offset)]);
        if (offset > 0) throw new Error(`import ${file}: cannot resume ${entry.path} from byte ${offset}`);
        return entry.stream;
      }, { lease, signal, labels: { 'containerd.io/uncompressed': blob.diffId } });
    });
  }

  private async finish(file: string, image: ArchiveImage, lease: string, signal: AbortSignal): Promise<ImageRecord> {
    const { manifest, manifestDesc, top } = image;
    const configBytes = image.smallBlobs.get(manifest.config.digest)!;
    const spec = decodeOciImageConfig(JSON.parse(configBytes.toString('utf8')));
    const diffIds = spec.rootfs?.diff_ids ?? [];
    const chain = await this.unpacker.unpack(manifest.layers.map((blob, i) => ({ blob, diffId: diffIds[i]! })), { lease, signal, what: `import ${file}` });
    const labels = gcLabels({ manifest, manifestDesc, top, topIsIndex: top.digest !== manifestDesc.digest, snapshotter: this.config.snapshotter, chainId: chain[chain.length - 1] ?? '' });
    const write = (desc: { digest: string; size: number }, labels: Record<string, string>): Promise<void> =>
      this.blobs.store(`import-${desc.digest}`, desc, image.smallBlobs.get(desc.digest)!, { lease, labels, signal });
    await write(manifest.config, labels.config);
    await write(manifestDesc, labels.manifest);
    if (top.digest !== manifestDesc.digest) await write(top, labels.index);
    await recordImage(this.containerd, [...image.names, manifest.config.digest], top, { pinned: false, signal });
    const record = storeImage(this.store, imageRecordFrom({ manifest, manifestSize: manifestDesc.size, spec, repoTags: image.names, repoDigests: [] }));
    this.log.info({ file, id: record.metadata.id, names: image.names }, 'image imported');
    this.bus.emit('image:pulled', record);
    return record;
  }
}
