/**
 * OCI and Docker schema 2 manifests and indexes: media types, zod schemas, and `parseImageManifest`,
 * which tells an index from a manifest by its `mediaType` field, the HTTP Content-Type, or its shape.
 */
import { z } from 'zod';
import { FailedPreconditionError, UnimplementedError } from '@crikit/core';

/** Media types of manifests, indexes, configs and layers that a pull meets. */
export const MediaTypes = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
} as const;

/** The Accept header of manifest requests: every index and manifest type crikit can pull, indexes first. */
export const MANIFEST_ACCEPT = [
  MediaTypes.ociIndex, MediaTypes.dockerManifestList, MediaTypes.ociManifest, MediaTypes.dockerManifest, '*/*',
].join(', ');

/** True for an OCI image index or a Docker manifest list. */
export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaTypes.ociIndex || mediaType === MediaTypes.dockerManifestList;
}

/** True for an OCI image manifest or a Docker schema 2 manifest. */
export function isManifestMediaType(mediaType: string): boolean {
  return mediaType === MediaTypes.ociManifest || mediaType === MediaTypes.dockerManifest;
}

/** `<algorithm>:<hex>` as go-digest writes it. */
const digestString = z.string().regex(/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, 'must be <algorithm>:<encoded>');

/** The platform of an index entry (OCI image-spec `platform`). */
export const platformSchema = z.object({
  architecture: z.string().min(1),
  os: z.string().min(1),
  variant: z.string().optional(),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
});
/** A platform as an index lists it. */
export type Platform = z.infer<typeof platformSchema>;

/** An OCI content descriptor: what to fetch (digest, size) and what it is (media type). */
export const descriptorSchema = z.object({
  mediaType: z.string().min(1),
  digest: digestString,
  size: z.number().int().nonnegative(),
  annotations: z.record(z.string(), z.string()).optional(),
  platform: platformSchema.optional(),
  urls: z.array(z.string()).optional(),
});
/** `{ mediaType, digest, size, annotations?, platform?, urls? }`. */
export type Descriptor = z.infer<typeof descriptorSchema>;

/** An OCI image index or Docker manifest list. */
export const imageIndexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptorSchema),
  annotations: z.record(z.string(), z.string()).optional(),
});
/** A parsed index. */
export type ImageIndex = z.infer<typeof imageIndexSchema>;

/** An OCI image manifest or Docker schema 2 manifest. */
export const imageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
/** A parsed manifest. */
export type ImageManifest = z.infer<typeof imageManifestSchema>;

/** An index or a manifest, with the media type it was recognised as. */
export type ParsedManifest =
  | { readonly kind: 'index'; readonly mediaType: string; readonly index: ImageIndex }
  | { readonly kind: 'manifest'; readonly mediaType: string; readonly manifest: ImageManifest };

/**
 * Parses manifest or index bytes. The media type comes from the JSON `mediaType`, else from a
 * specific `contentType`, else from the shape (`manifests` → OCI index, `config` → OCI manifest).
 * `what` prefixes error messages (`pull "x": manifest sha256:…`).
 * @throws FailedPreconditionError on invalid JSON, a schema violation, or a body that contradicts its media type
 * @throws UnimplementedError for Docker schema 1 and unknown media types
 */
export function parseImageManifest(data: Buffer, what: string, contentType?: string): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw new FailedPreconditionError(`${what}: invalid manifest: not json: ${(err as Error).message}`, { cause: err });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new FailedPreconditionError(`${what}: invalid manifest: not a json object`);
  }
  const fields = json as Record<string, unknown>;
  if (fields['schemaVersion'] === 1) throw new UnimplementedError(`${what}: docker schema 1 manifests are not supported`);
  const mediaType = mediaTypeOf(fields, contentType);
  if (mediaType === undefined) throw new FailedPreconditionError(`${what}: invalid manifest: neither an index nor a manifest`);
  // Refuse bodies whose shape contradicts the declared type, so an index cannot pass for a manifest.
  if (isIndexMediaType(mediaType)) {
    if ('config' in fields || 'layers' in fields) throw contradiction(what, mediaType, 'config or layers');
    return { kind: 'index', mediaType, index: validate(imageIndexSchema, fields, what) };
  }
  if (isManifestMediaType(mediaType)) {
    if ('manifests' in fields) throw contradiction(what, mediaType, 'manifests');
    return { kind: 'manifest', mediaType, manifest: validate(imageManifestSchema, fields, what) };
  }
  throw new UnimplementedError(`${what}: unsupported manifest media type "${mediaType}"`);
}

/** The media type a Content-Type header names, without parameters; undefined when absent or generic. */
export function contentMediaType(contentType: string | undefined): string | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type === undefined || type === '' || type === 'application/json' || type === 'text/plain'
    || type === 'application/octet-stream') return undefined;
  return type;
}

function mediaTypeOf(fields: Record<string, unknown>, contentType: string | undefined): string | undefined {
  const declared = fields['mediaType'];
  if (typeof declared === 'string' && declared !== '') return declared;
  const fromHeader = contentMediaType(contentType);
  if (fromHeader !== undefined) return fromHeader;
  if (Array.isArray(fields['manifests'])) return MediaTypes.ociIndex;
  if (typeof fields['config'] === 'object' && fields['config'] !== null) return MediaTypes.ociManifest;
  return undefined;
}

function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const at = issue !== undefined && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  const message = (issue?.message ?? 'schema violation').toLowerCase();
  throw new FailedPreconditionError(`${what}: invalid manifest: ${at}${message}`, {
    cause: result.error,
  });
}

function contradiction(what: string, mediaType: string, field: string): FailedPreconditionError {
  return new FailedPreconditionError(`${what}: invalid manifest: media type ${mediaType} with ${field}`);
}
