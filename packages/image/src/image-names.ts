import { images } from '@crikit/api';
import { isNotFound, type ContainerdClient } from '@crikit/core';
import type { Descriptor } from './image-manifest.js';
import type { ImageReference } from './image-reference.js';

/** containerd image label marking images crikit manages (the same key containerd's CRI uses). */
export const managedImageLabel = 'io.cri-containerd.image';
/** containerd image label marking pinned images (the same key containerd's CRI uses). */
export const pinnedImageLabel = 'io.cri-containerd.pinned';

/** The CRI names of a pulled image: its tag reference (if the pull named a tag) and its digest reference. */
export function imageNames(ref: ImageReference, topDigest: string): { repoTags: string[]; repoDigests: string[] } {
  const repo = `${ref.registry}/${ref.repository}`;
  return { repoTags: ref.tag !== undefined ? [`${repo}:${ref.tag}`] : [], repoDigests: [`${repo}@${topDigest}`] };
}

/**
 * Records `names` in containerd's image service, all pointing at `target`: a new name is created,
 * an existing one moved. A pin is added, never removed (only RemoveImage unpins). The image id (config digest) is one of the names, as containerd's CRI
 * does, so a restart finds every image by id.
 */
export async function recordImage(containerd: ContainerdClient, names: readonly string[], target: Descriptor, options: { pinned: boolean; signal: AbortSignal }): Promise<void> {
  const { signal } = options;
  const labels: Record<string, string> = { [managedImageLabel]: 'managed' };
  if (options.pinned) labels[pinnedImageLabel] = 'pinned';
  const t = { mediaType: target.mediaType, digest: target.digest, size: BigInt(target.size) };
  for (const name of names) {
    try {
      await containerd.images.update({ image: { name, target: t, labels }, updateMask: ['target', ...Object.keys(labels).map(k => `labels.${k}`)] }, { signal });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await containerd.images.create({ image: images.Image.fromPartial({ name, target: t, labels }) }, { signal });
    }
  }
}
