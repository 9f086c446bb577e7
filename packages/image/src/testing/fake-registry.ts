/**
 * An in-process OCI registry on 127.0.0.1 for unit tests of pulls: manifests by tag and digest,
 * blobs with `Range`, HEAD, basic or bearer authentication with its own token endpoint, and faults
 * queued per request (a status, a dropped connection, a redirect, a body cut short). It records
 * every request. Not a conformant registry: just enough of distribution v2 for a pull.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** How the fake registry authenticates requests. */
export type FakeRegistryAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly user: string; readonly password: string }
  /** Tokens from `<url>/token`: anonymous when `anonymous`, else for `user`/`password` or `refreshToken`. */
  | { readonly kind: 'bearer'; readonly user: string; readonly password: string; readonly refreshToken?: string; readonly anonymous?: boolean; readonly expiresInS?: number };

/** A fault served instead of the normal answer. */
export type FakeRegistryFault =
  | { readonly status: number; readonly body?: string; readonly headers?: Readonly<Record<string, string>> }
  /** Destroy the socket before answering. */
  | { readonly drop: true }
  /** Send the normal headers and the first `bytes` of the body, then destroy the socket. */
  | { readonly cutAfter: number }
  /** Answer 307 to `location`. */
  | { readonly redirect: string };

/** A request as the fake registry saw it. */
export interface FakeRegistryRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

interface QueuedFault {
  readonly match: (req: FakeRegistryRequest) => boolean;
  readonly fault: FakeRegistryFault;
  times: number;
}

/** sha256 digest of `data`. */
export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A fake distribution v2 registry. Start with `FakeRegistry.start()`, stop with `close()`. */
export class FakeRegistry {
  /** Every request received, oldest first. */
  readonly requests: FakeRegistryRequest[] = [];
  /** Tokens issued by the token endpoint, oldest first. */
  readonly issuedTokens: string[] = [];
  /** Answer HEAD on manifests with Docker-Content-Digest (true by default). */
  headDigest = true;
  /** Honour `Range` on blobs (true by default). */
  rangeSupport = true;
  private readonly blobs = new Map<string, Buffer>();
  private readonly manifests = new Map<string, { data: Buffer; mediaType: string }>();
  private readonly tags = new Map<string, string>();
  private readonly faults: QueuedFault[] = [];
  private readonly sockets = new Set<Socket>();
  private tokenCounter = 0;

  private constructor(private readonly server: Server, readonly auth: FakeRegistryAuth, private readonly scheme: 'http' | 'https') {}

  /** Starts a registry on a free 127.0.0.1 port; over https when `tls` gives a certificate and key (PEM). */
  static async start(auth: FakeRegistryAuth = { kind: 'none' }, options: { readonly tls?: { readonly cert: string; readonly key: string } } = {}): Promise<FakeRegistry> {
    const server = options.tls !== undefined ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }) : createServer();
    const registry = new FakeRegistry(server, auth, options.tls !== undefined ? 'https' : 'http');
    server.on('request', (req, res) => registry.handle(req, res));
    server.on('connection', socket => {
      registry.sockets.add(socket);
      socket.on('close', () => registry.sockets.delete(socket));
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    return registry;
  }

  /** `127.0.0.1:<port>`. */
  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** `http://127.0.0.1:<port>` (or https). */
  get url(): string {
    return `${this.scheme}://${this.host}`;
  }

  /** Stores a blob; returns its descriptor fields. */
  addBlob(data: Buffer, mediaType = 'application/octet-stream'): { mediaType: string; digest: string; size: number } {
    const digest = sha256(data);
    this.blobs.set(digest, data);
    return { mediaType, digest, size: data.length };
  }

  /** Replaces the stored bytes of a blob (to serve content that does not match its digest). */
  corruptBlob(digest: string, data: Buffer): void {
    this.blobs.set(digest, data);
  }

  /** Stores a manifest or index in `repository` under its digest and the given tags; returns its descriptor. */
  addManifest(repository: string, value: unknown, mediaType: string, tags: readonly string[] = []): { mediaType: string; digest: string; size: number } {
    const data = Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value));
    const digest = sha256(data);
    this.manifests.set(`${repository}@${digest}`, { data, mediaType });
    for (const tag of tags) this.tags.set(`${repository}:${tag}`, digest);
    return { mediaType, digest, size: data.length };
  }

  /** Serves `fault` instead of the next `times` requests that `match` accepts. */
  fail(match: (req: FakeRegistryRequest) => boolean, fault: FakeRegistryFault, times = 1): void {
    this.faults.push({ match, fault, times });
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const seen: FakeRegistryRequest = { method: req.method ?? 'GET', path: url.pathname + url.search, headers: req.headers };
    this.requests.push(seen);
    req.resume();
    req.on('end', () => {
      const queued = this.faults.find(f => f.times > 0 && f.match(seen));
      if (queued !== undefined) queued.times--;
      const fault = queued?.fault;
      if (fault !== undefined && 'drop' in fault) return void req.socket.destroy();
      if (fault !== undefined && 'status' in fault) {
        res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
        return void res.end(fault.body ?? '');
      }
      if (fault !== undefined && 'redirect' in fault) {
        res.writeHead(307, { location: fault.redirect });
        return void res.end();
      }
      if (url.pathname === '/token') return this.token(req, url, res);
      if (!this.authorized(req)) return this.challenge(url, res);
      this.serve(req, url, res, fault !== undefined && 'cutAfter' in fault ? fault.cutAfter : undefined);
    });
  }

  private authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    if (this.auth.kind === 'none') return true;
    if (this.auth.kind === 'basic') return header === basic(this.auth.user, this.auth.password);
    return this.issuedTokens.some(t => header === `Bearer ${t}`);
  }

  private challenge(url: URL, res: ServerResponse): void {
    const repo = /^\/v2\/(.+)\/(?:manifests|blobs)\//.exec(url.pathname)?.[1] ?? '';
    const header = this.auth.kind === 'basic'
      ? 'Basic realm="fake"'
      : `Bearer realm="${this.url}/token",service="fake-registry",scope="repository:${repo}:pull"`;
    res.writeHead(401, { 'www-authenticate': header, 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required', detail: null }] }));
  }

  private token(req: IncomingMessage, url: URL, res: ServerResponse): void {
    if (this.auth.kind !== 'bearer') return void res.writeHead(404).end();
    const { user, password, refreshToken, anonymous, expiresInS } = this.auth;
    let ok = anonymous === true;
    if (req.method === 'POST') {
      ok = refreshToken !== undefined; // the form body is not parsed: any refresh token POST is judged by the config
    } else if (req.headers.authorization !== undefined) {
      ok = req.headers.authorization === basic(user, password)
        || (refreshToken !== undefined && req.headers.authorization === basic(user, refreshToken));
    }
    if (!ok) {
      res.writeHead(401, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ details: 'incorrect username or password' }));
    }
    const token = `token-${++this.tokenCounter}-${url.searchParams.getAll('scope').join(',')}`;
    this.issuedTokens.push(token);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.method === 'POST' ? { access_token: token, expires_in: expiresInS ?? 300 } : { token, expires_in: expiresInS ?? 300 }));
  }

  private serve(req: IncomingMessage, url: URL, res: ServerResponse, cutAfter: number | undefined): void {
    const match = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    if (match === null) return void res.writeHead(url.pathname === '/v2/' ? 200 : 404).end();
    const [, repo, kind, reference] = match as unknown as [string, string, string, string];
    let data: Buffer | undefined;
    let mediaType = 'application/octet-stream';
    let digest = reference;
    if (kind === 'manifests') {
      digest = reference.includes(':') ? reference : this.tags.get(`${repo}:${reference}`) ?? '';
      const manifest = this.manifests.get(`${repo}@${digest}`);
      data = manifest?.data;
      mediaType = manifest?.mediaType ?? mediaType;
    } else {
      data = this.blobs.get(reference);
    }
    if (data === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ errors: [{ code: `${kind.toUpperCase()}_UNKNOWN`, message: `${kind.slice(0, -1)} unknown` }] }));
    }
    const headers: Record<string, string> = { 'content-type': mediaType };
    if (kind === 'blobs' || this.headDigest || req.method !== 'HEAD') headers['docker-content-digest'] = digest;
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (kind === 'blobs' && range !== null && this.rangeSupport) {
      const start = Number(range[1]);
      headers['content-range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
      data = data.subarray(start);
      status = 206;
    }
    headers['content-length'] = String(data.length);
    res.writeHead(status, headers);
    if (req.method === 'HEAD') return void res.end();
    if (cutAfter !== undefined) {
      res.write(data.subarray(0, cutAfter), () => setTimeout(() => req.socket.destroy(), 10));
      return;
    }
    res.end(data);
  }
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
