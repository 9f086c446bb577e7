import type { ImageRecord, ImageStore } from '@crikit/core';

/**
 * Adds an image to the store, or, when its id is already stored, adds its names to the stored one
 * (a re-pull or a second tag of the same image). Returns what the store now holds.
 */
export function storeImage(store: ImageStore, image: ImageRecord): ImageRecord {
  const id = image.metadata.id;
  if (!store.find(id)) {
    store.add(image);
    return store.get(id);
  }
  return store.update(id, s => ({
    ...s,
    repoTags: [...new Set([...s.repoTags, ...image.status.repoTags])],
    repoDigests: [...new Set([...s.repoDigests, ...image.status.repoDigests])],
    pinned: s.pinned || image.status.pinned,
  }));
}
