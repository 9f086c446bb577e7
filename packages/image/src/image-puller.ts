import { inject, injectable, optional } from 'inversify';
import {
  ContainerdClient, FailedPreconditionError, Logger, RuntimeEventBus, withLease, type ImageRecord,
} from '@crikit/core';
import { ContentWriter } from './content-writer.js';
import { ContentStoreDir, ImageConfig } from './image-config.js';
import { DirectBlobWriter } from './direct-blob-writer.js';
import { checkConfigDescriptor, parseImageConfigBlob } from './image-config-blob.js';
import { parseImageManifest, type Descriptor } from './image-manifest.js';
import { ImageReference } from './image-reference.js';
import { LayerUnpacker, type UnpackLayer } from './layer-unpacker.js';
import { selectPlatformManifest } from './platform-select.js';
import type { RegistryCredentials } from './registry-auth.js';
import { RegistryClient } from './registry-client.js';
import { imageNames, recordImage } from './image-names.js';
import { imageRecordFrom } from './image-record-of.js';
import { gcLabels } from './gc-labels.js';
import { runLimited } from './run-limited.js';

/**
 * Pulls one image from its registry into containerd: every blob into the content store under a
 * lease, the layers unpacked onto snapshots (each as soon as it and the ones below it are in, while
 * the rest still download), the names recorded in containerd's image service.
 * The lease goes when the image is recorded, or when the pull fails, and then containerd's GC
 * takes whatever the failed pull wrote.
 */
@injectable()
export class ImagePuller {
  private readonly blobs: ContentWriter;
  /** Set when layers are written into the content store directory itself. */
  private readonly direct: DirectBlobWriter | undefined;
  private readonly unpacker: LayerUnpacker;

  constructor(
    @inject(RegistryClient) private readonly registry: RegistryClient,
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(ImageConfig) private readonly config: ImageConfig,
    @inject(RuntimeEventBus) private readonly bus: RuntimeEventBus,
    @inject(Logger) private readonly log: Logger,
    @inject(ContentStoreDir) @optional() contentDir?: string,
  ) {
    this.blobs = new ContentWriter(containerd);
    this.direct = contentDir !== undefined ? new DirectBlobWriter(contentDir, this.blobs) : undefined;
    this.unpacker = new LayerUnpacker(containerd, config.snapshotter, log);
  }

  /**
   * Pulls `ref` and returns the image as the store will hold it (not yet added to the store).
   * @throws the registry client's errors; InternalError when a layer does not match its diff id
   */
  async pull(ref: ImageReference, options: { credentials: RegistryCredentials | undefined; pin: boolean }, signal: AbortSignal): Promise<ImageRecord> {
    const { credentials } = options;
    const what = `pull "${ref.toString()}"`;
    const started = Date.now();
    // The lease holds what the pull writes until the image is recorded; it expires by itself should crikit die.
    return withLease(this.containerd, 'pull', this.log, signal, async lease => {
      const call = { signal, credentials };
      const top = await this.registry.resolve(ref, call);
      const topBytes = await this.registry.fetchManifest(ref, top, call);
      const parsed = parseImageManifest(topBytes, `${what}: manifest ${top.digest}`, top.mediaType);
      let manifestDesc: Descriptor = top;
      let manifestBytes = topBytes;
      if (parsed.kind === 'index') {
        manifestDesc = selectPlatformManifest(ref.toString(), parsed.index);
        manifestBytes = await this.registry.fetchManifest(ref, manifestDesc, call);
      }
      const m = parseImageManifest(manifestBytes, `${what}: manifest ${manifestDesc.digest}`, manifestDesc.mediaType);
      if (m.kind !== 'manifest') throw new FailedPreconditionError(`${what}: ${manifestDesc.digest} is an index inside an index`);
      const manifest = m.manifest;

      // Checked before the download: a manifest may name anything, of any size, as its config.
      checkConfigDescriptor(manifest.config, what);
      const configBytes = await this.fetchSmallBlob(ref, manifest.config, call);
      const spec = parseImageConfigBlob(configBytes, manifest.config.digest, what);
      const diffIds = spec.rootfs?.diff_ids ?? [];
      if (diffIds.length !== manifest.layers.length) {
        throw new FailedPreconditionError(`${what}: the config lists ${diffIds.length} diff ids for ${manifest.layers.length} layers`);
      }

      const layers = manifest.layers.map((blob, i) => ({ blob, diffId: diffIds[i]! }));
      const chain = await this.fetchAndUnpack(ref, layers, { lease, credentials, signal, what });
      const labels = gcLabels({ manifest, manifestDesc, top, topIsIndex: parsed.kind === 'index', snapshotter: this.config.snapshotter, chainId: chain[chain.length - 1] ?? '' });
      const source = { [`containerd.io/distribution.source.${ref.registry}`]: ref.repository };
      await this.blobs.store(`config-${manifest.config.digest}`, manifest.config, configBytes, { lease, signal, labels: { ...labels.config, ...source } });
      await this.blobs.store(`manifest-${manifestDesc.digest}`, manifestDesc, manifestBytes, { lease, signal, labels: { ...labels.manifest, ...source } });
      if (parsed.kind === 'index') await this.blobs.store(`index-${top.digest}`, top, topBytes, { lease, signal, labels: { ...labels.index, ...source } });

      const names = imageNames(ref, top.digest);
      await recordImage(this.containerd, [...names.repoTags, ...names.repoDigests, manifest.config.digest], top, { pinned: options.pin, signal });
      const record = imageRecordFrom({ manifest, manifestSize: manifestBytes.length, spec, ...names, pinned: options.pin });
      this.log.info({ image: ref.toString(), id: record.metadata.id, size: record.metadata.size, ms: Date.now() - started }, 'image pulled');
      return record;
    });
  }

  /**
   * Downloads the layers into the content store and unpacks them as they arrive, as containerd's unpacker
   * does: layer i is applied once its blob is committed and layer i-1 is applied, while later layers still
   * download (at most `maxConcurrentDownloads` at once, in order). The first failure cancels the rest; it is
   * thrown once nothing runs any more, so the lease never goes while a write or an apply still uses it.
   * @returns the chain id of every layer, the top one last
   */
  private async fetchAndUnpack(
    ref: ImageReference, layers: readonly UnpackLayer[],
    options: { lease: string; credentials: RegistryCredentials | undefined; signal: AbortSignal; what: string },
  ): Promise<string[]> {
    const stop = new AbortController();
    const signal = AbortSignal.any([options.signal, stop.signal]);
    const fetched = layers.map(() => deferred());
    let failure: { err: unknown } | undefined;
    const fail = (err: unknown): undefined => {
      failure ??= { err };
      stop.abort();
      for (const f of fetched) f.reject(err); // no-op for the layers already fetched
      return undefined;
    };
    const downloads = runLimited(layers, this.config.maxConcurrentDownloads, signal, async (layer, i) => {
      try {
        await this.fetchLayer(ref, layer, { ...options, signal });
        fetched[i]!.resolve();
      } catch (err) {
        fail(err); // at once, not when the other downloads have settled
        throw err;
      }
    }).catch(fail);
    const unpacked = this.unpacker.unpack(layers, { lease: options.lease, signal, what: options.what, ready: i => fetched[i]!.promise }).catch(fail);
    const [, chain] = await Promise.all([downloads, unpacked]);
    if (failure) throw failure.err;
    return chain!;
  }

  private async fetchLayer(
    ref: ImageReference, { blob, diffId }: UnpackLayer,
    options: { lease: string; credentials: RegistryCredentials | undefined; signal: AbortSignal },
  ): Promise<void> {
    const { lease, credentials, signal } = options;
    const labels = { 'containerd.io/uncompressed': diffId, [`containerd.io/distribution.source.${ref.registry}`]: ref.repository };
    if (await this.blobs.has(blob.digest, signal)) {
      await this.blobs.setLabels(blob.digest, labels, signal);
      return;
    }
    let lastEmit = 0;
    const progress = (bytesDone: number): void => {
      const now = Date.now();
      if (now - lastEmit < 100 && bytesDone < blob.size) return;
      lastEmit = now;
      this.bus.emit('image:pull-progressed', { ref: ref.toString(), layerDigest: blob.digest, bytesDone, bytesTotal: blob.size });
    };
    const write = { lease, labels, signal, onProgress: progress };
    if (this.direct) {
      // Written into the content store directory, where containerd trusts what it finds: the digest is checked here.
      await this.direct.write(`layer-${blob.digest}`, blob, () => this.registry.fetchBlob(ref, blob, { signal, credentials }), write);
      return;
    }
    // containerd's commit checks the digest (`expected`) and refuses a mismatch with FailedPrecondition, naming
    // both digests; hashing the bytes here as well would only double the CPU. The stream still checks the size.
    await this.blobs.write(`layer-${blob.digest}`, blob, offset => this.registry.fetchBlob(ref, blob, { signal, credentials, offset, verifyDigest: false }), write);
  }

  private async fetchSmallBlob(ref: ImageReference, desc: Descriptor, call: { signal: AbortSignal; credentials: RegistryCredentials | undefined }): Promise<Buffer> {
    if (await this.blobs.has(desc.digest, call.signal)) return this.blobs.read(desc.digest, call.signal);
    const parts: Buffer[] = [];
    for await (const chunk of await this.registry.fetchBlob(ref, desc, call)) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }

}

/** A promise settled from outside (Promise.withResolvers is Node 22). Its rejection counts as handled. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void } {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  promise.catch(() => {});
  return { promise, resolve, reject };
}
