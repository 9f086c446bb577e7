import type { cri } from '@crikit/api';
import type { ImageRecord } from '../model/image-record.js';

/** What a pull needs besides the reference (CRI PullImageRequest minus the image). */
export interface ImagePullOptions {
  /** Registry credentials from the kubelet; the pull is anonymous (or uses configured auth) without them. */
  readonly auth?: cri.AuthConfig | undefined;
  /** The pod the image is pulled for; its runtime handler and annotations may select platform or snapshotter. */
  readonly sandboxConfig?: cri.PodSandboxConfig | undefined;
  /** Pin the image (the sandbox image is): CRI reports it `pinned`, so the kubelet's image GC never removes it. */
  readonly pin?: boolean | undefined;
}

/** Which images `list` returns (CRI ImageFilter); no filter lists every image. */
export interface ImageListFilter {
  /** Only the image this reference, id or id prefix names (normalised like a pull). */
  readonly ref?: string | undefined;
}

/**
 * The CRI ImageService: pulls images into containerd and reports them from the image store.
 * Reads (`list`, `status`) use the in-memory store and do no I/O; writes go to containerd and
 * update the store before they resolve. References are normalised as docker does
 * (`busybox` → `docker.io/library/busybox:latest`).
 */
export interface ImageService {
  /**
   * Pulls `ref`, unpacks it for the default snapshotter and stores the image. Concurrent pulls of
   * one reference share a single pull. Emits `image:pull-progressed` while blobs arrive, then
   * `image:pulled`. Idempotent: pulling a present image re-resolves the reference (a tag may have
   * moved) and fetches only missing blobs.
   * @returns the stored image (CRI PullImage answers with its id as `image_ref`)
   * @throws InvalidArgumentError for a malformed reference
   * @throws NotFoundError when the registry has no such repository, tag or platform
   * @throws UnavailableError when the registry or containerd cannot be reached
   * @throws CancelledError, DeadlineExceededError when `signal` fires
   */
  pull(ref: string, options: ImagePullOptions, signal: AbortSignal): Promise<ImageRecord>;

  /** The stored images that match `filter` (all when absent). No I/O. */
  list(filter?: ImageListFilter): readonly ImageRecord[];

  /**
   * The image `ref` names (a reference, an id or a unique id prefix), or undefined: CRI
   * ImageStatus answers a missing image with an empty response, not NotFound. No I/O.
   * @throws InvalidArgumentError for a malformed reference or an ambiguous id prefix
   */
  status(ref: string): ImageRecord | undefined;

  /**
   * Removes the image `ref` names, with every tag and digest it has (CRI RemoveImage removes the
   * image, not one name), and emits `image:removed`.
   * Idempotent: CRI RemoveImage of an image that does not exist succeeds.
   * @throws InvalidArgumentError for a malformed reference or an ambiguous id prefix
   * @throws UnavailableError when containerd cannot be reached
   */
  remove(ref: string, signal: AbortSignal): Promise<void>;

  /**
   * Usage of the filesystems holding images and container layers (CRI ImageFsInfo).
   * @throws UnavailableError when containerd cannot be reached
   */
  fsInfo(signal: AbortSignal): Promise<cri.ImageFsInfoResponse>;
}
export const ImageService = Symbol('ImageService');

/**
 * The narrow view of images that sandbox and container creation need: find an image that is
 * already stored. Never pulls and does no I/O.
 */
export interface ImageLookup {
  /**
   * The image `refOrId` names: a reference (normalised like a pull), an id or a unique id prefix.
   * @throws NotFoundError when no stored image matches
   * @throws InvalidArgumentError for a malformed reference or an ambiguous id prefix
   */
  get(refOrId: string): ImageRecord;

  /**
   * Like `get`, but undefined when no stored image matches.
   * @throws InvalidArgumentError for a malformed reference or an ambiguous id prefix
   */
  find(refOrId: string): ImageRecord | undefined;
}
export const ImageLookup = Symbol('ImageLookup');
