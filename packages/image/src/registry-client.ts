/**
 * The OCI distribution v2 client of a pull: resolve a reference to its top descriptor, fetch
 * manifests and stream blobs, from the endpoints `RegistryHosts` lists (mirrors first, see
 * endpoint-fallback.ts), with the pull's credentials (registry-auth.ts). It writes nothing anywhere:
 * the ingest into containerd's content store is built on top of it.
 *
 * Errors (registry-errors.ts): FailedPreconditionError for refused credentials and for content that
 * does not match its digest or size, NotFoundError for a missing image or blob, UnavailableError for
 * unreachable registries and 5xx after 3 tries, ResourceExhaustedError for 429 after 3 tries,
 * CancelledError/DeadlineExceededError when the call's signal fires.
 */
import { Readable } from 'node:stream';
import { inject, injectable, optional } from 'inversify';
import { FailedPreconditionError, Logger, NotFoundError, type CriError } from '@crikit/core';
import { NOT_HERE, tryEndpoints } from './endpoint-fallback.js';
import { ImageConfig } from './image-config.js';
import { contentMediaType, MANIFEST_ACCEPT, parseImageManifest, type Descriptor } from './image-manifest.js';
import type { ImageReference } from './image-reference.js';
import { RegistryAuth, type RegistryCredentials } from './registry-auth.js';
import { computeDigest } from './content-digest.js';
import { registryMessage, statusError } from './registry-errors.js';
import { RegistryHosts, type RegistryEndpoint } from './registry-hosts.js';
import { discard, readBody, RegistryHttp, type HttpResponse, type RetryPolicy } from './registry-http.js';
import { skipBytes, verifiedBlobStream } from './verified-blob-stream.js';
import { parseWwwAuthenticate } from './www-authenticate.js';

/** Options of every call. */
export interface RegistryCallOptions {
  readonly signal: AbortSignal;
  /** The pull's credentials (CRI AuthConfig); anonymous when absent. */
  readonly credentials?: RegistryCredentials | undefined;
}

/** Options of `fetchBlob`. */
export interface FetchBlobOptions extends RegistryCallOptions {
  /** Start here instead of at byte 0 (a resumed ingest); the digest is then left to the content store. */
  readonly offset?: number;
  /**
   * False leaves the digest to the content store also from byte 0, for bytes that go into containerd
   * (its commit with the expected digest refuses a mismatch); the size is checked either way. True by default.
   */
  readonly verifyDigest?: boolean;
}

/** Tuning for tests and embedders; bind it to change the defaults (3 tries, 200 ms backoff). */
export interface RegistryClientOptions {
  readonly retry?: Partial<RetryPolicy>;
}
/** DI token of the optional `RegistryClientOptions`. */
export const RegistryClientOptions = Symbol('RegistryClientOptions');

/** containerd's limit on manifest and index sizes. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Answers to HEAD that mean "ask with GET instead". */
const HEAD_UNSUPPORTED: ReadonlySet<number> = new Set([400, 405, 501]);
/** Error bodies are read for their message only. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Talks to OCI registries for pulls. Singleton: it pools connections and caches tokens. */
@injectable()
export class RegistryClient {
  private readonly http: RegistryHttp;
  private readonly auth: RegistryAuth;
  private readonly log: Logger;

  constructor(
    @inject(ImageConfig) private readonly config: Pick<ImageConfig, 'pullStallTimeoutMs'>,
    @inject(RegistryHosts) private readonly hosts: Pick<RegistryHosts, 'endpoints'>,
    @inject(Logger) log: Logger,
    @inject(RegistryClientOptions) @optional() private readonly options: RegistryClientOptions = {},
  ) {
    this.log = log.child({ component: 'registry-client' });
    this.http = new RegistryHttp(options.retry);
    this.auth = new RegistryAuth(this.http, this.log);
  }

  /**
   * The descriptor of the manifest or index `ref` names (by digest when it has one, else by tag):
   * HEAD first, GET when HEAD does not tell digest, type and size. A digest in `ref` is verified.
   * Uses endpoints that can `pull` and, for a tag, `resolve`.
   * @throws NotFoundError `image "x" not found` when no endpoint has it; FailedPreconditionError when
   * refused or when the registry answers another digest; see the file comment for the rest
   */
  async resolve(ref: ImageReference, options: RegistryCallOptions): Promise<Descriptor> {
    const doing = `pull "${ref.toString()}"`;
    const needs = ref.digest !== undefined ? ['pull'] as const : ['pull', 'resolve'] as const;
    const notFound = (host: string): NotFoundError => new NotFoundError(`image "${ref.toString()}" not found at registry ${host}`);
    return tryEndpoints(await this.endpoints(ref), needs, { log: this.log, signal: options.signal, doing, notFound }, async endpoint => {
      const path = `manifests/${ref.object}`;
      const head = await this.send(endpoint, ref, 'HEAD', path, { accept: MANIFEST_ACCEPT }, options, doing);
      if (head.status === 404) return discardThen(head, NOT_HERE);
      if (head.status === 200) {
        discard(head);
        const digest = header(head, 'docker-content-digest');
        const mediaType = contentMediaType(header(head, 'content-type'));
        const size = Number(header(head, 'content-length') ?? Number.NaN);
        if (digest !== undefined && ref.digest !== undefined && digest !== ref.digest) {
          throw new FailedPreconditionError(`${doing}: registry ${endpoint.host} answered digest ${digest}`);
        }
        const known = ref.digest ?? digest;
        if (known !== undefined && mediaType !== undefined && Number.isInteger(size) && size > 0) {
          return { mediaType, digest: known, size };
        }
      } else if (!HEAD_UNSUPPORTED.has(head.status)) {
        throw await this.failure(head, endpoint, doing);
      }
      // Some registries answer HEAD poorly (405, no digest): ask with GET and hash the body.
      const res = await this.send(endpoint, ref, 'GET', path, { accept: MANIFEST_ACCEPT }, options, doing);
      if (res.status === 404) return discardThen(res, NOT_HERE);
      if (res.status !== 200) throw await this.failure(res, endpoint, doing);
      const body = await readBody(res, MAX_MANIFEST_BYTES, () => tooLarge(doing, endpoint));
      const digest = computeDigest(body, ref.digest);
      if (ref.digest !== undefined && digest !== ref.digest) {
        throw new FailedPreconditionError(`${doing}: digest mismatch: registry ${endpoint.host} sent ${digest}`);
      }
      const parsed = parseImageManifest(body, doing, header(res, 'content-type'));
      return { mediaType: parsed.mediaType, digest, size: body.length };
    });
  }

  /**
   * The bytes of the manifest or index `desc` points to, checked against its size and digest.
   * @throws NotFoundError when no endpoint has it; FailedPreconditionError when the bytes do not match
   */
  async fetchManifest(ref: ImageReference, desc: Descriptor, options: RegistryCallOptions): Promise<Buffer> {
    const doing = `pull "${ref.toString()}": manifest ${desc.digest}`;
    if (desc.size > MAX_MANIFEST_BYTES) throw new FailedPreconditionError(`${doing}: larger than ${MAX_MANIFEST_BYTES} bytes`);
    const notFound = (host: string): NotFoundError => new NotFoundError(`${doing}: not found at registry ${host}`);
    return tryEndpoints(await this.endpoints(ref), ['pull'], { log: this.log, signal: options.signal, doing, notFound }, async endpoint => {
      const accept = `${desc.mediaType}, ${MANIFEST_ACCEPT}`;
      const res = await this.send(endpoint, ref, 'GET', `manifests/${desc.digest}`, { accept }, options, doing);
      if (res.status === 404) return discardThen(res, NOT_HERE);
      if (res.status !== 200) throw await this.failure(res, endpoint, doing);
      const body = await readBody(res, desc.size, () => sizeMismatch(doing, endpoint, `more than ${desc.size} bytes`));
      if (body.length !== desc.size) throw sizeMismatch(doing, endpoint, `${body.length} of ${desc.size} bytes`);
      const digest = computeDigest(body, desc.digest);
      if (digest !== desc.digest) {
        throw new FailedPreconditionError(`${doing}: digest mismatch: registry ${endpoint.host} sent ${digest}`);
      }
      return body;
    });
  }

  /**
   * A stream of the blob's bytes from `offset` (0 by default) that verifies size and (unless
   * `verifyDigest` is false) digest as it goes and fails with an 'error' at the end on a mismatch
   * (see verified-blob-stream.ts). Follows
   * redirects to storage hosts without credentials; resumes dropped downloads with `Range`.
   * @throws NotFoundError when no endpoint has the blob; the errors of the file comment otherwise
   */
  async fetchBlob(ref: ImageReference, desc: Descriptor, options: FetchBlobOptions): Promise<Readable> {
    const doing = `pull "${ref.toString()}": blob ${desc.digest}`;
    const offset = options.offset ?? 0;
    const stream = (first: Readable | undefined, endpoint: RegistryEndpoint | undefined): Readable => verifiedBlobStream({
      descriptor: desc, offset, what: doing, signal: options.signal, log: this.log, verifyDigest: options.verifyDigest,
      stallTimeoutMs: this.config.pullStallTimeoutMs,
      backoffMs: this.options.retry?.backoffMs, tries: this.options.retry?.tries,
      ...(first !== undefined ? { first } : {}),
      open: async (position, signal) => {
        const body = endpoint !== undefined ? await this.openBlob(endpoint, ref, desc, position, { ...options, signal }, doing) : NOT_HERE;
        if (body === NOT_HERE) throw new NotFoundError(`${doing}: gone from registry ${endpoint?.host ?? ''} while downloading`);
        return body;
      },
    });
    if (offset > 0 && offset >= desc.size) return stream(undefined, undefined); // nothing left to fetch
    const notFound = (host: string): NotFoundError => new NotFoundError(`${doing}: not found at registry ${host}`);
    return tryEndpoints(await this.endpoints(ref), ['pull'], { log: this.log, signal: options.signal, doing, notFound }, async endpoint => {
    const body = await this.openBlob(endpoint, ref, desc, offset, options, doing);
    return body === NOT_HERE ? NOT_HERE : stream(body, endpoint);
  });
}

/** Closes pooled connections. Idempotent; later calls open new ones. */
close(): void {
  this.http.close();
}

private async endpoints(ref: ImageReference): Promise<RegistryEndpoint[]> {
  return this.hosts.endpoints(ref.registry);
}

/** GET of a blob at `offset`: a body starting exactly there, or NOT_HERE on 404. */
private async openBlob(
  endpoint: RegistryEndpoint, ref: ImageReference, desc: Descriptor, offset: number, options: RegistryCallOptions, doing: string,
): Promise<Readable | typeof NOT_HERE> {
  const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
  const res = await this.send(endpoint, ref, 'GET', `blobs/${desc.digest}`, headers, options, doing);
  if (res.status === 404) return discardThen(res, NOT_HERE);
  if (res.status !== 200 && res.status !== 206) throw await this.failure(res, endpoint, doing);
  let start = 0;
  if (res.status === 206) {
    const match = /^bytes (\d+)-/.exec(header(res, 'content-range') ?? '');
    start = match !== null ? Number(match[1]) : Number.NaN;
    if (start !== offset) {
      discard(res);
      throw new FailedPreconditionError(`${doing}: registry ${endpoint.host} answered range ${header(res, 'content-range') ?? '(none)'} for offset ${offset}`);
    }
  }
  const length = Number(header(res, 'content-length') ?? Number.NaN);
  if (Number.isInteger(length) && length !== desc.size - start) {
    discard(res);
    throw sizeMismatch(doing, endpoint, `${start + length} bytes where the descriptor says ${desc.size}`);
  }
  // A registry that ignores Range sends the whole blob: drop what the caller already has.
  return start < offset ? skipBytes(res.body, offset - start) : res.body;
}

/** Sends a request to `endpoint`, answering one 401 with the credentials (registry-auth.ts). */
private async send(
  endpoint: RegistryEndpoint, ref: ImageReference, method: 'GET' | 'HEAD', path: string,
  extra: Record<string, string>, options: RegistryCallOptions, doing: string,
): Promise<HttpResponse> {
  const url = new URL(`${endpoint.url}/${ref.repository}/${path}`);
  const scope = `repository:${ref.repository}:pull`;
  const creds = options.credentials ?? {};
  let authorization = await this.auth.header(endpoint, scope, creds, options.signal, doing);
  for (let round = 0; ; round++) {
    const headers = { ...endpoint.headers, ...extra, ...(authorization !== undefined ? { authorization } : {}) };
    const res = await this.http.send({ method, url, headers, tls: endpoint }, options.signal, doing);
    if (res.status !== 401 || round > 0) return res;
    const next = await this.auth.respond(endpoint, parseWwwAuthenticate(res.headers['www-authenticate']), scope, creds, options.signal, doing);
    if (next === undefined) return res;
    discard(res);
    authorization = next;
  }
}

/** The error for an unexpected answer, with the registry's own message when its body has one. */
private async failure(res: HttpResponse, endpoint: RegistryEndpoint, doing: string): Promise<CriError> {
  let body: Buffer | undefined;
  if (res.method !== 'HEAD') body = await readBody(res, MAX_ERROR_BODY_BYTES, () => tooLarge(doing, endpoint)).catch(() => undefined);
  else discard(res);
  const who = res.url.host === endpoint.host ? `registry ${endpoint.host}` : `storage host ${res.url.host}`;
  return statusError(doing, who, res.status, registryMessage(res.status, body));
}
}

function header(res: HttpResponse, name: string): string | undefined {
const value = res.headers[name];
return Array.isArray(value) ? value[0] : value;
}

function discardThen<T>(res: HttpResponse, value: T): T {
discard(res);
return value;
}

function tooLarge(doing: string, endpoint: RegistryEndpoint): FailedPreconditionError {
return new FailedPreconditionError(`${doing}: registry ${endpoint.host} answered more than ${MAX_MANIFEST_BYTES} bytes`);
}

function sizeMismatch(doing: string, endpoint: RegistryEndpoint, what: string): FailedPreconditionError {
return new FailedPreconditionError(`${doing}: size mismatch: registry ${endpoint.host} sent ${what}`);
}
