import type { Descriptor, ImageManifest } from './image-manifest.js';

/** What an image's blobs must say for containerd's GC to keep exactly what the image uses. */
export interface ImageGcLabels {
  readonly index: Record<string, string>;
  readonly manifest: Record<string, string>;
  readonly config: Record<string, string>;
}

/**
 * containerd's GC reference labels: the index points at the manifest it selected, the manifest at
 * its config and layers, the config at the top snapshot (whose parents the snapshotter keeps).
 * The image record in containerd's image service is the root that holds the chain.
 */
export function gcLabels(input: { manifest: ImageManifest; manifestDesc: Descriptor; top: Descriptor; topIsIndex: boolean; snapshotter: string; chainId: string }): ImageGcLabels {
  const manifest: Record<string, string> = { 'containerd.io/gc.ref.content.config': input.manifest.config.digest };
  input.manifest.layers.forEach((l, i) => { manifest[`containerd.io/gc.ref.content.l.${i}`] = l.digest; });
  return {
    index: input.topIsIndex ? { 'containerd.io/gc.ref.content.m.0': input.manifestDesc.digest } : {},
    manifest,
    config: input.chainId ? { [`containerd.io/gc.ref.snapshot.${input.snapshotter}`]: input.chainId } : {},
  };
}
