/**
 * Pushes built images and indexes into a registry over the OCI distribution API, with node:http:
 * HEAD to skip blobs already there, POST + PUT for a monolithic upload, PUT for manifests.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { BasicCredentials } from './local-registry.js';
import type { Blob } from './oci-blob.js';
import type { BuiltImage } from './oci-image.js';
import type { BuiltIndex } from './oci-index.js';

/**
 * No keep-alive: tests stop and restart registries, and a pooled socket to a registry that just
 * stopped would fail the next request with "socket hang up" instead of connecting anew.
 */
const agent = new Agent({ keepAlive: false });

/** Where to push: a registry base URL and, optionally, the credentials it requires (a `LocalRegistry` fits). */
export interface PushTarget {
  /** `http://host:port`. */
  readonly url: string;
  readonly credentials?: BasicCredentials | undefined;
}

/** Options for `pushImage` and `pushIndex`. */
export interface PushOptions {
  /** Tag for the top manifest; `latest` by default. */
  readonly tag?: string;
  /** Overrides the target's credentials. */
  readonly credentials?: BasicCredentials;
}

/** What a push did. */
export interface PushResult {
  /** `host/repository:tag`, ready for a pull. */
  readonly reference: string;
  /** `host/repository@digest` of the top manifest or index. */
  readonly digestReference: string;
  /** Digest of the top manifest or index. */
  readonly digest: string;
  /** Digests of blobs uploaded, and of blobs the registry already had. */
  readonly uploaded: readonly string[];
  readonly skipped: readonly string[];
}

/** A response read whole. */
export interface RegistryResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * Pushes the config and layers of `image`, then its manifest under the tag. Idempotent.
 * @throws Error naming the object and the HTTP status when the registry refuses a request
 */
export async function pushImage(target: PushTarget, repository: string, image: BuiltImage, options: PushOptions = {}): Promise<PushResult> {
  const tag = options.tag ?? 'latest';
  const creds = options.credentials ?? target.credentials;
  const uploaded: string[] = [];
  const skipped: string[] = [];
  await pushImageBlobs(target, repository, image, creds, uploaded, skipped);
  await pushManifest(target, repository, tag, image.manifest, creds);
  return result(target, repository, tag, image.manifest.digest, uploaded, skipped);
}

/**
 * Pushes every image of `index` (blobs, then each manifest by digest), then the index under the tag.
 * Idempotent. @throws Error naming the object and the HTTP status when the registry refuses a request
 */
export async function pushIndex(target: PushTarget, repository: string, index: BuiltIndex, options: PushOptions = {}): Promise<PushResult> {
  const tag = options.tag ?? 'latest';
  const creds = options.credentials ?? target.credentials;
  const uploaded: string[] = [];
  const skipped: string[] = [];
  for (const image of index.images) {
    await pushImageBlobs(target, repository, image, creds, uploaded, skipped);
    // The registry refuses an index whose manifests it does not hold, so they go first.
    await pushManifest(target, repository, image.manifest.digest, image.manifest, creds);
  }
  await pushManifest(target, repository, tag, index.index, creds);
  return result(target, repository, tag, index.index.digest, uploaded, skipped);
}

/**
 * Uploads one blob unless the repository already has it; returns whether it uploaded.
 * @throws Error when the registry refuses the upload (a digest mismatch among other causes)
 */
export async function pushBlob(target: PushTarget, repository: string, blob: Blob, credentials?: BasicCredentials): Promise<boolean> {
  const creds = credentials ?? target.credentials;
  const what = `push blob ${blob.digest} to ${repository}`;
  const head = await registryRequest(target, 'HEAD', `/v2/${repository}/blobs/${blob.digest}`, { credentials: creds });
  if (head.status === 200) return false;
  if (head.status !== 404) throw httpError(what, head);
  const start = await registryRequest(target, 'POST', `/v2/${repository}/blobs/uploads/`, { credentials: creds });
  const location = start.headers.location;
  if (start.status !== 202 || location === undefined) throw httpError(`${what}: start upload`, start);
  // Location may be absolute or relative to the registry, and already carries query state.
  const uploadUrl = new URL(location, target.url);
  uploadUrl.searchParams.set('digest', blob.digest);
  const put = await registryRequest(target, 'PUT', uploadUrl.pathname + uploadUrl.search, {
    credentials: creds,
    headers: { 'content-type': 'application/octet-stream' },
    body: blob.data,
  });
  if (put.status !== 201) throw httpError(`${what}: finish upload`, put);
  return true;
}

/**
 * Puts a manifest or index under `reference` (a tag or a digest) with its media type as Content-Type.
 * @throws Error when the registry refuses it or reports another digest than the blob's
 */
export async function pushManifest(target: PushTarget, repository: string, reference: string, manifest: Blob, credentials?: BasicCredentials): Promise<void> {
  const res = await registryRequest(target, 'PUT', `/v2/${repository}/manifests/${reference}`, {
    credentials: credentials ?? target.credentials,
    headers: { 'content-type': manifest.mediaType },
    body: manifest.data,
  });
  const what = `push manifest ${repository}:${reference}`;
  if (res.status !== 201) throw httpError(what, res);
  const digest = res.headers['docker-content-digest'];
  if (digest !== undefined && digest !== manifest.digest) {
    throw new Error(`${what}: registry stored ${String(digest)}, expected ${manifest.digest}`);
  }
}

/** Options for `registryRequest`. */
export interface RegistryRequestOptions {
  readonly credentials?: BasicCredentials | undefined;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

/** Sends one request to the registry (basic auth when credentials are given) and reads the whole answer. */
export function registryRequest(target: PushTarget, method: string, path: string, options: RegistryRequestOptions = {}): Promise<RegistryResponse> {
  const url = new URL(path, target.url);
  const headers: Record<string, string | number> = { ...options.headers };
  if (options.credentials !== undefined) {
    const token = Buffer.from(`${options.credentials.user}:${options.credentials.password}`, 'utf8').toString('base64');
    headers.authorization = `Basic ${token}`;
  }
  if (options.body !== undefined) headers['content-length'] = options.body.length;
  else if (method === 'PUT' || method === 'POST') headers['content-length'] = 0;
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent }, res => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', err => reject(new Error(`${method} ${url.href}: ${err.message}`, { cause: err })));
    req.end(options.body);
  });
}

async function pushImageBlobs(
  target: PushTarget, repository: string, image: BuiltImage, creds: BasicCredentials | undefined,
  uploaded: string[], skipped: string[],
): Promise<void> {
  for (const blob of [image.config, ...image.layers]) {
    if (uploaded.includes(blob.digest) || skipped.includes(blob.digest)) continue;
    (await pushBlob(target, repository, blob, creds) ? uploaded : skipped).push(blob.digest);
  }
}

function result(target: PushTarget, repository: string, tag: string, digest: string, uploaded: string[], skipped: string[]): PushResult {
  const host = new URL(target.url).host;
  return { reference: `${host}/${repository}:${tag}`, digestReference: `${host}/${repository}@${digest}`, digest, uploaded, skipped };
}

function httpError(what: string, res: RegistryResponse): Error {
  const body = res.body.toString('utf8').slice(0, 500).trim();
  return new Error(`${what}: HTTP ${res.status}${body !== '' ? `: ${body}` : ''}`);
}
