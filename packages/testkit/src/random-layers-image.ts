import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { constants as zlibConstants } from 'node:zlib';
import type { ImageFormat } from './media-types.js';
import { buildImage, type BuiltImage } from './oci-image.js';
import { buildStreamedLayer, type BuiltLayer } from './oci-layer.js';
import { tarChunks } from './tar-writer.js';

/** Options for `randomLayersImage`. */
export interface RandomLayersImageOptions {
  /** Number of layers; 5 by default. */
  readonly layers?: number;
  /** Size of the one random file in each layer; 40 MiB by default (about 200 MB for 5 layers). */
  readonly bytesPerLayer?: number;
  /** Same seed, same bytes and digests; a fresh random seed by default. */
  readonly seed?: string;
  /**
   * zlib level; 0 (stored deflate blocks) by default: the content does not compress, so any level gives
   * the same size within 0.01%, and level 0 builds about 6× faster than level 1.
   */
  readonly gzipLevel?: number;
  /** `oci` by default. */
  readonly format?: ImageFormat;
  /** Architecture written in the config; `amd64` by default. */
  readonly architecture?: string;
}

const CHUNK = 1024 * 1024;

/**
 * Builds an image of incompressible layers for pull benchmarks: layer `i` holds `/data/layer-<i>.bin`
 * of `bytesPerLayer` pseudo-random bytes (an AES-256-CTR keystream keyed by the seed). Content is
 * generated and compressed in 1 MiB chunks, so building a layer needs about twice its size in memory.
 * @throws RangeError on a non-positive layer count or a negative size
 */
export async function randomLayersImage(options: RandomLayersImageOptions = {}): Promise<BuiltImage> {
  const count = options.layers ?? 5;
  const bytesPerLayer = options.bytesPerLayer ?? 40 * 1024 * 1024;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`random layers image: layers must be ≥ 1, got ${count}`);
  if (!Number.isInteger(bytesPerLayer) || bytesPerLayer < 0) {
    throw new RangeError(`random layers image: bytesPerLayer must be ≥ 0, got ${bytesPerLayer}`);
  }
  const seed = options.seed ?? randomBytes(16).toString('hex');
  const key = createHash('sha256').update(seed).digest();
  const layers: BuiltLayer[] = [];
  for (let i = 0; i < count; i++) {
    layers.push(await randomLayer(key, i, bytesPerLayer, options.gzipLevel ?? zlibConstants.Z_NO_COMPRESSION));
  }
  return buildImage({
    layers,
    architecture: options.architecture ?? 'amd64',
    format: options.format ?? 'oci',
    labels: { 'io.crikit.testkit.seed': seed },
  });
}

function randomLayer(key: Buffer, index: number, size: number, gzipLevel: number): Promise<BuiltLayer> {
  const path = `data/layer-${index}.bin`;
  // Each layer gets its own counter block, so no two layers share keystream (or digest).
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(index, 0);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const zeros = Buffer.alloc(CHUNK);
  function* content(): Generator<Buffer> {
    for (let done = 0; done < size; done += CHUNK) yield cipher.update(zeros.subarray(0, Math.min(CHUNK, size - done)));
  }
  return buildStreamedLayer(async write => {
    const entries = [
      { type: 'directory', path: 'data' },
      { type: 'streamed-file', path, size, mode: 0o644, content: content() },
    ] as const;
    for await (const chunk of tarChunks(entries)) await write(chunk);
  }, { gzipLevel, createdBy: `testkit: ${size} random bytes at /${path}` });
}
