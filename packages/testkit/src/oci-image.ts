import { mediaTypesOf, type ImageFormat } from './media-types.js';
import { descriptorOf, jsonBlob, type Blob } from './oci-blob.js';
import { buildLayer, withLayerMediaType, type BuiltLayer } from './oci-layer.js';
import type { TarEntry } from './tar-writer.js';

/** The platform an image runs on, as written in its config and in index entries. */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  /** CPU variant, e.g. `v7` for `arm`, `v8` for `arm64`. */
  readonly variant?: string;
}

/** The runtime defaults in an image config (`config` object of the OCI image spec). */
export interface ImageRuntimeConfig {
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  /** `KEY=value` strings. */
  readonly env?: readonly string[];
  readonly workingDir?: string;
  /** `user`, `uid`, `user:group` or `uid:gid`. */
  readonly user?: string;
  /** e.g. `SIGQUIT`. */
  readonly stopSignal?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** e.g. `['80/tcp', '53/udp']`. */
  readonly exposedPorts?: readonly string[];
  /** Paths of anonymous volumes, e.g. `['/data']`. */
  readonly volumes?: readonly string[];
}

/** What to build an image from. */
export interface ImageSpec extends ImageRuntimeConfig {
  /** Layers bottom first: prebuilt layers are reused as they are, entry lists are built here. */
  readonly layers: readonly (BuiltLayer | readonly TarEntry[])[];
  /** `amd64` by default. */
  readonly architecture?: string;
  /** `linux` by default. */
  readonly os?: string;
  readonly variant?: string;
  /** `oci` by default; `docker` writes Docker schema2 media types. */
  readonly format?: ImageFormat;
  /** RFC 3339 creation time; the epoch by default, for reproducible digests. */
  readonly created?: string;
  /** Annotations on the manifest (OCI format only; Docker schema2 has none). */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A built image: every blob a registry needs, plus what describes it. */
export interface BuiltImage {
  readonly manifest: Blob;
  readonly config: Blob;
  /** Compressed layers, bottom first. */
  readonly layers: readonly Blob[];
  /** Media type of the manifest (equal to `manifest.mediaType`). */
  readonly mediaType: string;
  readonly platform: Platform;
  /** `rootfs.diff_ids` of the config, one per layer. */
  readonly diffIds: readonly string[];
  readonly format: ImageFormat;
}

const EPOCH = '1970-01-01T00:00:00Z';

/**
 * Builds an image (layers, config, manifest) without any external builder. Deterministic for the same
 * spec. @throws Error when the spec has no layer or a Docker image is given annotations
 */
export async function buildImage(spec: ImageSpec): Promise<BuiltImage> {
  const format = spec.format ?? 'oci';
  const types = mediaTypesOf(format);
  if (spec.layers.length === 0) throw new Error('build image: at least one layer is required');
  if (format === 'docker' && spec.annotations !== undefined) {
    throw new Error('build image: docker schema2 manifests carry no annotations');
  }
  const layers = await Promise.all(spec.layers.map(async layer =>
    withLayerMediaType(isBuiltLayer(layer) ? layer : await buildLayer(layer), types.layerGzip)));
  const platform: Platform = {
    os: spec.os ?? 'linux',
    architecture: spec.architecture ?? 'amd64',
    ...(spec.variant !== undefined ? { variant: spec.variant } : {}),
  };
  const created = spec.created ?? EPOCH;
  const config = jsonBlob({
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant !== undefined ? { variant: platform.variant } : {}),
    config: runtimeConfigJson(spec),
    rootfs: { type: 'layers', diff_ids: layers.map(l => l.diffId) },
    history: layers.map(l => ({ created, created_by: l.createdBy })),
  }, types.config);
  const manifest = jsonBlob({
    schemaVersion: 2,
    mediaType: types.manifest,
    config: descriptorOf(config),
    layers: layers.map(l => descriptorOf(l.blob)),
    ...(spec.annotations !== undefined ? { annotations: spec.annotations } : {}),
  }, types.manifest);
  return {
    manifest,
    config,
    layers: layers.map(l => l.blob),
    mediaType: types.manifest,
    platform,
    diffIds: layers.map(l => l.diffId),
    format,
  };
}

/** The image's layers as `BuiltLayer`s, so that another image (another architecture) can reuse them. */
export function layersOf(image: BuiltImage): BuiltLayer[] {
  const history = (JSON.parse(image.config.data.toString('utf8')) as { history?: { created_by?: string }[] }).history ?? [];
  return image.layers.map((blob, i) => ({
    blob,
    diffId: image.diffIds[i]!,
    createdBy: history[i]?.created_by ?? 'testkit: reused layer',
  }));
}

/** The `config` object of an image config: only the fields that are set, in the order Docker writes them. */
function runtimeConfigJson(c: ImageRuntimeConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (c.user !== undefined) out.User = c.user;
  if (c.exposedPorts !== undefined) out.ExposedPorts = setOf(c.exposedPorts);
  if (c.env !== undefined) out.Env = [...c.env];
  if (c.entrypoint !== undefined) out.Entrypoint = [...c.entrypoint];
  if (c.cmd !== undefined) out.Cmd = [...c.cmd];
  if (c.volumes !== undefined) out.Volumes = setOf(c.volumes);
  if (c.workingDir !== undefined) out.WorkingDir = c.workingDir;
  if (c.labels !== undefined) out.Labels = { ...c.labels };
  if (c.stopSignal !== undefined) out.StopSignal = c.stopSignal;
  return out;
}

/** Docker and OCI write sets (ports, volumes) as objects whose values are `{}`. */
function setOf(keys: readonly string[]): Record<string, Record<string, never>> {
  return Object.fromEntries(keys.map(k => [k, {}]));
}

function isBuiltLayer(layer: BuiltLayer | readonly TarEntry[]): layer is BuiltLayer {
  return !Array.isArray(layer);
}
