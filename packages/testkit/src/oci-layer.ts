import { createHash } from 'node:crypto';
import { constants as zlibConstants, createGzip, gzipSync } from 'node:zlib';
import { MediaType } from './media-types.js';
import { blobOf, type Blob } from './oci-blob.js';
import { writeTar, type TarEntry } from './tar-writer.js';

/** A gzip-compressed tar layer and the digest of its uncompressed form. */
export interface BuiltLayer {
  /** The compressed layer, typed as an OCI gzip layer (images re-type it for Docker schema2). */
  readonly blob: Blob;
  /** `sha256:<hex>` of the uncompressed tar: the entry in the config's `rootfs.diff_ids`. */
  readonly diffId: string;
  /** The `created_by` text written into the image history for this layer. */
  readonly createdBy: string;
}

/** Options for building a layer. */
export interface LayerOptions {
  /** History text for the layer; defaults to a description of its entries. */
  readonly createdBy?: string;
  /** zlib level 0–9; 6 by default. The same level always gives the same bytes. */
  readonly gzipLevel?: number;
}

/**
 * Builds a layer from tar entries in memory. Deterministic: Node's gzip header carries mtime 0 and no
 * file name, and entry times default to 0, so the same entries always give the same digest.
 */
export async function buildLayer(entries: readonly TarEntry[], options: LayerOptions = {}): Promise<BuiltLayer> {
  const tar = await writeTar(entries);
  const gz = gzipSync(tar, { level: options.gzipLevel ?? zlibConstants.Z_DEFAULT_COMPRESSION });
  return {
    blob: blobOf(gz, MediaType.ociLayerGzip),
    diffId: `sha256:${createHash('sha256').update(tar).digest('hex')}`,
    createdBy: options.createdBy ?? `testkit: ${entries.length} entries`,
  };
}

/** Writes uncompressed tar bytes into a streamed layer; resolves once the chunk is accepted. */
export type LayerWrite = (chunk: Buffer) => Promise<void>;

/**
 * Builds a layer whose tar bytes `produce` writes chunk by chunk (the chunks of `tarChunks`, whose
 * `streamed-file` entries carry large files). The uncompressed tar is hashed as it streams and never kept;
 * only the compressed output is, so peak memory is about twice the compressed size.
 */
export async function buildStreamedLayer(
  produce: (write: LayerWrite) => Promise<void>,
  options: LayerOptions = {},
): Promise<BuiltLayer> {
  const gzip = createGzip({ level: options.gzipLevel ?? zlibConstants.Z_DEFAULT_COMPRESSION });
  const diffHash = createHash('sha256');
  const blobHash = createHash('sha256');
  const out: Buffer[] = [];
  let outSize = 0;
  gzip.on('data', (chunk: Buffer) => {
    blobHash.update(chunk);
    out.push(chunk);
    outSize += chunk.length;
  });
  const ended = new Promise<void>((resolve, reject) => {
    gzip.once('end', resolve);
    gzip.once('error', reject);
  });
  const write: LayerWrite = async chunk => {
    diffHash.update(chunk);
    // Respect back-pressure so that a producer of hundreds of MB does not queue it all in zlib.
    if (!gzip.write(chunk)) await new Promise<void>(resolve => gzip.once('drain', resolve));
  };
  try {
    await produce(write);
  } catch (err) {
    gzip.destroy();
    throw err;
  }
  gzip.end();
  await ended;
  const data = Buffer.concat(out, outSize);
  out.length = 0;
  return {
    blob: { digest: `sha256:${blobHash.digest('hex')}`, size: data.length, mediaType: MediaType.ociLayerGzip, data },
    diffId: `sha256:${diffHash.digest('hex')}`,
    createdBy: options.createdBy ?? 'testkit: streamed layer',
  };
}

/** Re-types a layer's blob with another media type (same bytes, same digest). */
export function withLayerMediaType(layer: BuiltLayer, mediaType: string): BuiltLayer {
  return layer.blob.mediaType === mediaType ? layer : { ...layer, blob: { ...layer.blob, mediaType } };
}
