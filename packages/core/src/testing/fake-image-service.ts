import { cri } from '@crikit/api';
import type { ImageLookup, ImageListFilter, ImagePullOptions, ImageService } from '../contracts/image-service.js';
import { throwIfAborted } from '../errors.js';
import type { RuntimeEventBus } from '../events/runtime-events.js';
import type { ImageRecord } from '../model/image-record.js';
import { ImageStore } from '../stores/image-store.js';
import { FakeRecorder, type MethodsOf } from './fake-recorder.js';
import { digestOf, imageRecord } from './record-builders.js';

/**
 * An ImageService and ImageLookup over an ImageStore, with no registry. `pull` of a reference
 * found in `registry` stores that image; any other reference is "pulled" as a made-up image whose
 * id derives from the reference. References are used as given (no normalisation).
 */
export class FakeImageService extends FakeRecorder<MethodsOf<ImageService> | MethodsOf<ImageLookup>> implements ImageService, ImageLookup {
  /** What the fake registry serves, by reference. */
  readonly registry = new Map<string, ImageRecord>();
  /** What `fsInfo` answers. */
  fsUsage: cri.ImageFsInfoResponse = cri.ImageFsInfoResponse.fromPartial({
    imageFilesystems: [{ fsId: { mountpoint: '/var/lib/containerd' }, usedBytes: { value: 0n }, inodesUsed: { value: 0n } }],
  });

  /** @param bus when given, pulls and removals are announced on it */
  constructor(readonly store: ImageStore = new ImageStore(), private readonly bus?: RuntimeEventBus) {
    super();
  }

  async pull(ref: string, options: ImagePullOptions, signal: AbortSignal): Promise<ImageRecord> {
    this.record('pull', ref, options);
    throwIfAborted(signal, `pull image "${ref}"`);
    const served = this.registry.get(ref) ?? imageRecord({
      metadata: { id: digestOf(`config of ${ref}`) as ImageRecord['metadata']['id'] },
      status: ref.includes('@') ? { repoTags: [], repoDigests: [ref] } : { repoTags: [ref], repoDigests: [] },
    });
    const id = served.metadata.id;
    this.bus?.emit('image:pull-progressed', { ref, layerDigest: served.metadata.chainId, bytesDone: served.metadata.size, bytesTotal: served.metadata.size });
    // A pull of a present image only adds the names (as re-pulling a tag does).
    if (!this.store.find(id)) this.store.add(served);
    const stored = this.store.update(id, s => ({
      ...s,
      repoTags: union(s.repoTags, served.status.repoTags),
      repoDigests: union(s.repoDigests, served.status.repoDigests),
    }));
    this.bus?.emit('image:pulled', stored);
    return stored;
  }

  list(filter?: ImageListFilter): readonly ImageRecord[] {
    this.record('list', filter);
    if (filter?.ref === undefined || filter.ref === '') return this.store.list();
    const match = this.store.find(filter.ref);
    return match ? [match] : [];
  }

  status(ref: string): ImageRecord | undefined {
    this.record('status', ref);
    return this.store.find(ref);
  }

  async remove(ref: string, signal: AbortSignal): Promise<void> {
    this.record('remove', ref);
    throwIfAborted(signal, `remove image "${ref}"`);
    const found = this.store.find(ref);
    if (!found) return;
    this.store.delete(found.metadata.id);
    this.bus?.emit('image:removed', found);
  }

  async fsInfo(signal: AbortSignal): Promise<cri.ImageFsInfoResponse> {
    this.record('fsInfo');
    throwIfAborted(signal, 'image fs info');
    return this.fsUsage;
  }

  get(refOrId: string): ImageRecord {
    this.record('get', refOrId);
    return this.store.get(refOrId);
  }

  find(refOrId: string): ImageRecord | undefined {
    this.record('find', refOrId);
    return this.store.find(refOrId);
  }
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}
