import { mediaTypesOf, type ImageFormat } from './media-types.js';
import { descriptorOf, jsonBlob, type Blob, type Descriptor } from './oci-blob.js';
import type { BuiltImage } from './oci-image.js';

/** A multi-platform index (OCI image index or Docker manifest list) and the images it lists. */
export interface BuiltIndex {
  readonly index: Blob;
  readonly images: readonly BuiltImage[];
  /** Media type of the index (equal to `index.mediaType`). */
  readonly mediaType: string;
  readonly format: ImageFormat;
}

/** Options for `buildIndex`. */
export interface IndexOptions {
  /** Annotations on the index (OCI format only). */
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * Builds an index over `images`, one entry per image with the platform from its config. The format
 * follows the images: OCI images give an OCI index, Docker schema2 images a Docker manifest list.
 * @throws Error when `images` is empty, mixes formats or lists one platform twice
 */
export function buildIndex(images: readonly BuiltImage[], options: IndexOptions = {}): BuiltIndex {
  const first = images[0];
  if (first === undefined) throw new Error('build index: at least one image is required');
  const format = first.format;
  const types = mediaTypesOf(format);
  const seen = new Set<string>();
  for (const image of images) {
    if (image.format !== format) throw new Error(`build index: images mix ${format} and ${image.format} formats`);
    const key = platformKey(image);
    // A client picks one manifest per platform; two would make the choice arbitrary.
    if (seen.has(key)) throw new Error(`build index: platform ${key} is listed twice`);
    seen.add(key);
  }
  if (format === 'docker' && options.annotations !== undefined) {
    throw new Error('build index: docker manifest lists carry no annotations');
  }
  const manifests: Descriptor[] = images.map(image => ({
    ...descriptorOf(image.manifest),
    platform: {
      architecture: image.platform.architecture,
      os: image.platform.os,
      ...(image.platform.variant !== undefined ? { variant: image.platform.variant } : {}),
    },
  }));
  const index = jsonBlob({
    schemaVersion: 2,
    mediaType: types.index,
    manifests,
    ...(options.annotations !== undefined ? { annotations: options.annotations } : {}),
  }, types.index);
  return { index, images, mediaType: types.index, format };
}

/** `os/architecture[/variant]`, the usual way to name a platform. */
export function platformKey(image: Pick<BuiltImage, 'platform'>): string {
  const { os, architecture, variant } = image.platform;
  return variant !== undefined ? `${os}/${architecture}/${variant}` : `${os}/${architecture}`;
}
