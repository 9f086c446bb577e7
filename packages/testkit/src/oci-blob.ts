import { createHash } from 'node:crypto';

/** Content-addressed bytes with the descriptor fields a manifest refers to them by. */
export interface Blob {
  /** `sha256:<hex>` of `data`. */
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly data: Buffer;
}

/** An OCI content descriptor, as written into manifests and indexes. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: { readonly architecture: string; readonly os: string; readonly variant?: string };
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Returns `sha256:<hex>` of `data`. */
export function sha256Digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Wraps `data` as a blob of `mediaType`, computing its digest and size. */
export function blobOf(data: Buffer, mediaType: string): Blob {
  return { digest: sha256Digest(data), size: data.length, mediaType, data };
}

/** Serialises `value` as compact JSON and wraps it as a blob; key order is the object's, so output is stable. */
export function jsonBlob(value: unknown, mediaType: string): Blob {
  return blobOf(Buffer.from(JSON.stringify(value), 'utf8'), mediaType);
}

/** The descriptor of `blob` (media type, digest and size). */
export function descriptorOf(blob: Blob): Descriptor {
  return { mediaType: blob.mediaType, digest: blob.digest, size: blob.size };
}
