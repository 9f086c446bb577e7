import { imageRecordOf, imageUser, type ImageId, type ImageRecord, type OciImageConfig } from '@crikit/core';
import { chainIds } from './chain-id.js';
import type { ImageManifest } from './image-manifest.js';

/**
 * The store's record of an image from its manifest and config: id = config digest, chain id of the
 * top layer, size = manifest + config + compressed layers (what containerd's CRI reports).
 */
export function imageRecordFrom(input: {
  manifest: ImageManifest; manifestSize: number; spec: OciImageConfig;
  repoTags: readonly string[]; repoDigests: readonly string[]; pinned?: boolean;
}): ImageRecord {
  const { manifest, spec } = input;
  const chain = chainIds(spec.rootfs?.diff_ids ?? []);
  const size = input.manifestSize + manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
  return imageRecordOf(
    { id: manifest.config.digest as ImageId, chainId: chain[chain.length - 1] ?? '', size, ...imageUser(spec.config.User), spec },
    { repoTags: [...input.repoTags], repoDigests: [...input.repoDigests], pinned: input.pinned ?? false },
  );
}
