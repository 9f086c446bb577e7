import { busyboxImage, type BusyboxImageOptions } from './busybox-image.js';
import type { ImageFormat } from './media-types.js';
import type { BuiltImage, Platform } from './oci-image.js';
import { buildIndex, type BuiltIndex } from './oci-index.js';

/** Platforms of the default multi-arch fixture. */
export const DEFAULT_INDEX_PLATFORMS: readonly Platform[] = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
  { os: 'linux', architecture: 'arm', variant: 'v7' },
];

/** What `multiArchIndex` lists: given images, or busybox images built for the given platforms. */
export interface MultiArchIndexOptions {
  /** Images to list as they are, each under the platform of its config. Excludes the options below. */
  readonly images?: readonly BuiltImage[];
  /** Platforms to build busybox images for; `DEFAULT_INDEX_PLATFORMS` by default. */
  readonly platforms?: readonly Platform[];
  /** Options for every busybox image (architecture and variant come from the platform). */
  readonly busybox?: Omit<BusyboxImageOptions, 'architecture' | 'variant' | 'format'>;
  /** `oci` (image index) by default; `docker` gives a Docker manifest list of schema2 images. */
  readonly format?: ImageFormat;
}

/**
 * Builds a multi-platform index. Without `images`, each platform gets a busybox image that shares the
 * host's busybox layer and differs only in the config's architecture: enough to test platform
 * selection, though only the host's entry can actually run.
 * @throws Error when `images` is combined with `platforms`, `busybox` or `format`, or a platform repeats
 */
export async function multiArchIndex(options: MultiArchIndexOptions = {}): Promise<BuiltIndex> {
  if (options.images !== undefined) {
    if (options.platforms !== undefined || options.busybox !== undefined || options.format !== undefined) {
      throw new Error('multi-arch index: images excludes platforms, busybox and format');
    }
    return buildIndex(options.images);
  }
  const images: BuiltImage[] = [];
  for (const platform of options.platforms ?? DEFAULT_INDEX_PLATFORMS) {
    if (platform.os !== 'linux') throw new Error(`multi-arch index: busybox images are linux only, not ${platform.os}`);
    images.push(await busyboxImage({
      ...options.busybox,
      architecture: platform.architecture,
      ...(platform.variant !== undefined ? { variant: platform.variant } : {}),
      format: options.format ?? 'oci',
    }));
  }
  return buildIndex(images);
}
