import { FailedPreconditionError, InvalidArgumentError } from '@crikit/core';
import { computeDigest } from './content-digest.js';
import { MediaTypes, parseImageManifest, type Descriptor, type ImageManifest } from './image-manifest.js';
import { ImageReference } from './image-reference.js';
import { selectPlatformManifest } from './platform-select.js';

/** One image an archive holds, ready to be written: names, the blobs to store, the layers to unpack. */
export interface ArchiveImage {
  /** Normalised tag references it is imported under (may be empty: then only its id names it). */
  readonly names: string[];
  /** What the containerd image records point at: the index or manifest. */
  readonly top: Descriptor;
  readonly manifestDesc: Descriptor;
  readonly manifest: ImageManifest;
  /** Archive path of each layer blob, in manifest order. */
  readonly layerPaths: string[];
  /** Small blobs (index, manifest, config) with their bytes. */
  readonly smallBlobs: Map<string, Buffer>;
}

/** The small files of an archive, by path (JSON documents and blobs of at most 4 MiB). */
export type SmallFiles = ReadonlyMap<string, Buffer>;

/**
 * Works out what an archive holds from its small files: an OCI image layout (`oci-layout`,
 * `index.json`, `blobs/<alg>/<hex>`) or a `docker save` archive (`manifest.json` listing Config,
 * RepoTags and Layers). An OCI layout wins when both are present (docker 25 writes both).
 * @throws InvalidArgumentError when it is neither; FailedPreconditionError when its documents are inconsistent
 */
export function planArchive(file: string, small: SmallFiles, sizes: ReadonlyMap<string, number>): ArchiveImage[] {
  if (small.has('oci-layout') && small.has('index.json')) return planOciLayout(file, small);
  if (small.has('manifest.json')) return planDockerSave(file, small, sizes);
  throw new InvalidArgumentError(`import ${file}: neither an OCI image layout nor a docker save archive`);
}

const blobPath = (digest: string): string => `blobs/${digest.replace(':', '/')}`;

function planOciLayout(file: string, small: SmallFiles): ArchiveImage[] {
  const what = `import ${file}`;
  const index = parseImageManifest(small.get('index.json')!, `${what}: index.json`);
  if (index.kind !== 'index') throw new FailedPreconditionError(`${what}: index.json is not an index`);
  return index.index.manifests.map(top => {
    const blob = (d: Descriptor): Buffer => {
      const data = small.get(blobPath(d.digest));
      if (!data) throw new FailedPreconditionError(`${what}: blob ${d.digest} is missing`);
      return data;
    };
    const smallBlobs = new Map<string, Buffer>([[top.digest, blob(top)]]);
    let manifestDesc = top;
    let parsed = parseImageManifest(blob(top), `${what}: ${top.digest}`, top.mediaType);
    if (parsed.kind === 'index') {
      manifestDesc = selectPlatformManifest(file, parsed.index);
      smallBlobs.set(manifestDesc.digest, blob(manifestDesc));
      parsed = parseImageManifest(blob(manifestDesc), `${what}: ${manifestDesc.digest}`, manifestDesc.mediaType);
    }
    if (parsed.kind !== 'manifest') throw new FailedPreconditionError(`${what}: ${manifestDesc.digest} is an index inside an index`);
    smallBlobs.set(parsed.manifest.config.digest, blob(parsed.manifest.config));
    const name = top.annotations?.['io.containerd.image.name'] ?? top.annotations?.['org.opencontainers.image.ref.name'];
    return {
      names: name ? [normalise(what, name)] : [],
      top: { mediaType: top.mediaType, digest: top.digest, size: top.size },
      manifestDesc, manifest: parsed.manifest, smallBlobs,
      layerPaths: parsed.manifest.layers.map(l => blobPath(l.digest)),
    };
  });
}

const dockerSaveSchemaHint = 'manifest.json must be a list of {Config, RepoTags, Layers}';
/** Docker's media type of an uncompressed layer tar (what `docker save` holds). */
const dockerLayerTar = 'application/vnd.docker.image.rootfs.diff.tar';

function planDockerSave(file: string, small: SmallFiles, sizes: ReadonlyMap<string, number>): ArchiveImage[] {
  const what = `import ${file}`;
  let entries: unknown;
  try {
    entries = JSON.parse(small.get('manifest.json')!.toString('utf8'));
  } catch {
    throw new FailedPreconditionError(`${what}: manifest.json is not JSON`);
  }
  if (!Array.isArray(entries)) throw new FailedPreconditionError(`${what}: ${dockerSaveSchemaHint}`);
  return entries.map((e: { Config?: unknown; RepoTags?: unknown; Layers?: unknown }): ArchiveImage => {
    if (typeof e.Config !== 'string' || !Array.isArray(e.Layers)) throw new FailedPreconditionError(`${what}: ${dockerSaveSchemaHint}`);
    const layerPaths = e.Layers as string[];
    const config = small.get(e.Config);
    if (!config) throw new FailedPreconditionError(`${what}: config ${e.Config} is missing`);
    const diffIds = (JSON.parse(config.toString('utf8')) as { rootfs?: { diff_ids?: string[] } }).rootfs?.diff_ids ?? [];
    if (diffIds.length !== layerPaths.length) throw new FailedPreconditionError(`${what}: ${e.Config} lists ${diffIds.length} diff ids for ${layerPaths.length} layers`);
    // A docker save layer is the uncompressed tar, so its digest is its diff id. There is no
    // manifest in the archive; containerd records images by one, so it is made here.
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaTypes.dockerManifest,
      config: { mediaType: MediaTypes.dockerConfig, digest: computeDigest(config), size: config.length },
      layers: layerPaths.map((p, i) => {
        const size = sizes.get(p);
        if (size === undefined) throw new FailedPreconditionError(`${what}: layer ${p} is missing`);
        return { mediaType: dockerLayerTar, digest: diffIds[i]!, size };
      }),
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDesc = { mediaType: MediaTypes.dockerManifest, digest: computeDigest(manifestBytes), size: manifestBytes.length };
    return {
      names: Array.isArray(e.RepoTags) ? (e.RepoTags as string[]).map(n => normalise(what, n)) : [],
      top: manifestDesc, manifestDesc, manifest, layerPaths,
      smallBlobs: new Map([[manifestDesc.digest, manifestBytes], [manifest.config.digest, config]]),
    };
  });
}

function normalise(what: string, name: string): string {
  try {
    return ImageReference.parse(name).toString();
  } catch (err) {
    throw new InvalidArgumentError(`${what}: image name "${name}" is not a valid reference`, { cause: err });
  }
}
