import { injectable } from 'inversify';
import { AlreadyExistsError, NotFoundError } from '../errors.js';
import type { ImageId } from '../ids.js';
import type { ImageRecord, ImageStatus } from '../model/image-record.js';
import { deepFreeze } from '../util/deep-freeze.js';
import { PrefixIndex } from './prefix-index.js';

/**
 * Images known to this runtime, indexed by id, by every name (repo tag and repo digest) and by
 * short id. Names are exact, already-normalised references: normalising `busybox` is the image
 * package's job. A name belongs to one image; giving it to another moves it (re-pulling a tag
 * points it at the newest image, as containerd does), and an image left without names stays,
 * reachable by id, until it is removed. Synchronous: a mutation never spans an await.
 */
@injectable()
export class ImageStore {
  private readonly byId = new Map<ImageId, ImageRecord>();
  private readonly byName = new Map<string, ImageId>();
  private readonly prefixes = new PrefixIndex<ImageId>('image');

  /**
   * Stores a new image, frozen in place; names it carries are moved from other images.
   * @throws AlreadyExistsError if the id is stored (use `update` to change its names)
   */
  add(record: ImageRecord): void {
    const id = record.metadata.id;
    if (this.byId.has(id)) throw new AlreadyExistsError(`image "${id}" already exists`);
    this.byId.set(id, deepFreeze(record));
    this.prefixes.add(id);
    this.claimNames(id, record.status);
  }

  /**
   * The image with this name, id (`sha256:…`), or unique id prefix with or without `sha256:`
   * (crictl prints 13 hex characters).
   * @throws NotFoundError, InvalidArgumentError (ambiguous prefix)
   */
  get(refOrId: string): ImageRecord {
    const record = this.find(refOrId);
    if (!record) throw new NotFoundError(`image "${refOrId}" not found`);
    return record;
  }

  /**
   * Like `get`, but undefined when nothing matches (ImageStatus answers "no image", not an error).
   * @throws InvalidArgumentError (empty or ambiguous prefix)
   */
  find(refOrId: string): ImageRecord | undefined {
    const named = this.byName.get(refOrId);
    if (named !== undefined) return this.byId.get(named);
    // Only something shaped like an id is tried as a prefix, so a short tag never matches an id.
    const prefix = /^[0-9a-f]+$/.test(refOrId) ? `sha256:${refOrId}` : /^sha256:[0-9a-f]*$/.test(refOrId) ? refOrId : undefined;
    if (prefix === undefined) return undefined;
    const id = this.prefixes.find(prefix);
    return id === undefined ? undefined : this.byId.get(id);
  }

  /**
   * Replaces the names and pin of an image with `fn(current)`. Names gained are moved from other
   * images; names lost are freed. If `fn` throws, nothing changes.
   * @throws NotFoundError if the id is not stored
   */
  update(id: ImageId, fn: (status: ImageStatus) => ImageStatus): ImageRecord {
    const current = this.byId.get(id);
    if (!current) throw new NotFoundError(`image "${id}" not found`);
    const status = fn(current.status);
    this.releaseNames(id, current.status);
    const next = deepFreeze({ metadata: current.metadata, status });
    this.byId.set(id, next);
    this.claimNames(id, status);
    return next;
  }

  /** Removes the image with all its names and its short id. Idempotent. */
  delete(id: ImageId): void {
    const current = this.byId.get(id);
    if (!current) return;
    this.releaseNames(id, current.status);
    this.byId.delete(id);
    this.prefixes.remove(id);
  }

  /** A snapshot of the images `filter` accepts (all by default). */
  list(filter?: (record: ImageRecord) => boolean): readonly ImageRecord[] {
    const all = [...this.byId.values()];
    return filter ? all.filter(filter) : all;
  }

  /** How many images are stored. */
  get size(): number {
    return this.byId.size;
  }

  /** Frees the names `status` lists that still point at `id`. */
  private releaseNames(id: ImageId, status: ImageStatus): void {
    for (const name of [...status.repoTags, ...status.repoDigests]) {
      if (this.byName.get(name) === id) this.byName.delete(name);
    }
  }

  /** Points every name in `status` at `id`, taking each from the image that held it. */
  private claimNames(id: ImageId, status: ImageStatus): void {
    for (const name of [...status.repoTags, ...status.repoDigests]) {
      const holder = this.byName.get(name);
      if (holder !== undefined && holder !== id) this.dropName(holder, name);
      this.byName.set(name, id);
    }
  }

  /** Rewrites the record of `holder` without `name` (its status is frozen, so it is replaced). */
  private dropName(holder: ImageId, name: string): void {
    const record = this.byId.get(holder);
    if (!record) return;
    const status: ImageStatus = {
      ...record.status,
      repoTags: record.status.repoTags.filter(n => n !== name),
      repoDigests: record.status.repoDigests.filter(n => n !== name),
    };
    this.byId.set(holder, deepFreeze({ metadata: record.metadata, status }));
  }
}
