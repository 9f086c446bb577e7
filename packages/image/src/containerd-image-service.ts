import { inject, injectable } from 'inversify';
import type { cri } from '@crikit/api';
import {
  ContainerdClient, ignoreNotFound, ImageStore, Logger, RuntimeEventBus,
  type ImageListFilter, type ImageLookup, type ImagePullOptions, type ImageRecord, type ImageService,
} from '@crikit/core';
import { ImageFsUsage } from './image-fs-usage.js';
import { ImagePuller } from './image-puller.js';
import { ImageReference } from './image-reference.js';
import { credentialsKey, type RegistryCredentials } from './registry-auth.js';
import { RefCountedFlight } from './ref-counted-flight.js';
import { storeImage } from './store-image.js';

/**
 * The CRI ImageService on containerd: pulls through `ImagePuller`, keeps the image store, removes
 * every containerd name of an image. Reads come from the store and do no I/O.
 */
@injectable()
export class ContainerdImageService implements ImageService, ImageLookup {
  private readonly pulls = new RefCountedFlight<string, ImageRecord>();

  constructor(
    @inject(ImagePuller) private readonly puller: ImagePuller,
    @inject(ImageStore) private readonly store: ImageStore,
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(ImageFsUsage) private readonly fsUsage: ImageFsUsage,
    @inject(RuntimeEventBus) private readonly bus: RuntimeEventBus,
    @inject(Logger) private readonly log: Logger,
  ) {}

  async pull(ref: string, options: ImagePullOptions, signal: AbortSignal): Promise<ImageRecord> {
    const parsed = ImageReference.parse(ref);
    const name = parsed.toString();
    const credentials = credentialsOf(options.auth);
    const pin = options.pin ?? false;
    // Concurrent pulls of one reference with the same credentials and pin share one pull; a caller with
    // other credentials (or none) pulls on its own, so it never rides on another caller's token, and a
    // pinned pull (the pause image) never joins an unpinned one that would record no pin.
    const key = `${name}\0${pin ? 'pinned' : ''}\0${credentialsKey(credentials)}`;
    return this.pulls.do(key, signal, `pull "${name}"`,
      async shared => this.remember(await this.puller.pull(parsed, { credentials, pin }, shared)));
  }

  list(filter?: ImageListFilter): readonly ImageRecord[] {
    if (filter?.ref) {
      const one = this.find(filter.ref);
      return one ? [one] : [];
    }
    return this.store.list();
  }

  status(ref: string): ImageRecord | undefined {
    return this.find(ref);
  }

  get(refOrId: string): ImageRecord {
    return this.find(refOrId) ?? this.store.get(refOrId);
  }

  find(refOrId: string): ImageRecord | undefined {
    // CRI: a name is tried as a reference first (busybox → docker.io/library/busybox:latest), then as an id or id prefix.
    let normalised: string | undefined;
    try {
      normalised = ImageReference.parse(refOrId).toString();
    } catch {
      normalised = undefined;
    }
    return (normalised !== undefined ? this.store.find(normalised) : undefined) ?? this.store.find(refOrId);
  }

  async remove(ref: string, signal: AbortSignal): Promise<void> {
    // CRI: RemoveImage of an unknown image succeeds.
    const record = this.find(ref);
    if (!record) return;
    const names = [...record.status.repoTags, ...record.status.repoDigests, record.metadata.id];
    for (const [i, name] of names.entries()) {
      // The last delete is synchronous: containerd's GC then runs before we answer, as containerd's CRI does.
      await ignoreNotFound(this.containerd.images.delete({ name, sync: i === names.length - 1 }, { signal }));
    }
    this.store.delete(record.metadata.id);
    this.log.info({ image: ref, id: record.metadata.id }, 'image removed');
    this.bus.emit('image:removed', record);
  }

  fsInfo(signal: AbortSignal): Promise<cri.ImageFsInfoResponse> {
    return this.fsUsage.info(signal);
  }

  /** Stores a pulled image (or adds its names to the stored one) and says so. */
  private remember(pulled: ImageRecord): ImageRecord {
    const record = storeImage(this.store, pulled);
    this.bus.emit('image:pulled', record);
    return record;
  }
}

function credentialsOf(auth: cri.AuthConfig | undefined): RegistryCredentials | undefined {
  if (!auth) return undefined;
  return {
    username: auth.username || undefined,
    password: auth.password || undefined,
    auth: auth.auth || undefined,
    identityToken: auth.identityToken || undefined,
    registryToken: auth.registryToken || undefined,
  };
}
