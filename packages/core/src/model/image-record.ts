import type { ImageId } from '../ids.js';
import { deepFreeze } from '../util/deep-freeze.js';
import type { OciImageConfig } from './oci-image-config.js';

/**
 * What is fixed for an image: everything derived from its content. The id is the config digest,
 * so two pulls that produce the same config are the same image.
 */
export interface ImageMetadata {
  /** CRI image id: the digest of the image config (`sha256:…`). */
  readonly id: ImageId;
  /** Chain id of the top layer: the key of the committed snapshot a container rootfs is prepared from. */
  readonly chainId: string;
  /**
   * Bytes the image takes in the content store (config + layers, compressed). A `number`, not a
   * bigint: it is exact up to 8 PiB (2^53 bytes) and sums and JSON stay simple; the CRI's uint64 is
   * made from it with `BigInt(size)`.
   */
  readonly size: number;
  /** The numeric uid from the config's `User` (`"1000"` or `"1000:1000"`); undefined when it is a name or empty. */
  readonly uid: number | undefined;
  /** The user name from the config's `User` (`"nginx"` or `"nginx:nginx"`); '' when numeric or empty. */
  readonly username: string;
  /** The OCI image config. */
  readonly spec: OciImageConfig;
}

/** The names an image is known by, which move between images as tags are re-pulled. */
export interface ImageStatus {
  /** Tag references, normalised (`docker.io/library/busybox:1.36`). */
  readonly repoTags: readonly string[];
  /** Digest references, normalised (`docker.io/library/busybox@sha256:…`). */
  readonly repoDigests: readonly string[];
  /** Pinned images are never garbage-collected by the kubelet (the sandbox image is pinned). */
  readonly pinned: boolean;
}

/** An image as the store holds it. */
export interface ImageRecord {
  readonly metadata: ImageMetadata;
  readonly status: ImageStatus;
}

/**
 * Splits an image config `User` into the uid or user name the CRI reports, as containerd does:
 * only the part before `:` counts; a number is a uid, anything else a user name.
 */
export function imageUser(user: string | undefined): { uid: number | undefined; username: string } {
  const name = (user ?? '').split(':')[0] ?? '';
  if (name === '') return { uid: undefined, username: '' };
  return /^\d+$/.test(name) ? { uid: Number(name), username: '' } : { uid: undefined, username: name };
}

/** Builds a frozen record; the store freezes what it is given, so this is only a convenience. */
export function imageRecordOf(metadata: ImageMetadata, status: ImageStatus): ImageRecord {
  return deepFreeze({ metadata, status });
}
