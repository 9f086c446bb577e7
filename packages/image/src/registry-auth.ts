/**
 * Registry authentication as docker and containerd do it. A host's first 401 tells the scheme:
 *
 *   Basic  → send the pull's username and password (none: the 401 stands)
 *   Bearer → get a token from the realm for `repository:<repo>:pull`, then send `Bearer <token>`:
 *              registryToken (CRI registry_token)  used as the token itself, no token server
 *              identityToken (CRI identity_token)  POST realm, grant_type=refresh_token (OAuth2)
 *              username + password                 GET realm with basic auth
 *              nothing                             GET realm anonymously
 *
 * Tokens are cached per (host, scope, credentials) until they expire, and the scheme per
 * (host, credentials), so later requests carry the header from the start.
 */
import { createHash } from 'node:crypto';
import { FailedPreconditionError, type Logger } from '@crikit/core';
import type { RegistryEndpoint } from './registry-hosts.js';
import { registryMessage, statusError } from './registry-errors.js';
import { discard, readBody, type RegistryHttp } from './registry-http.js';
import type { AuthChallenge } from './www-authenticate.js';

/** Credentials for one pull, in the shape of CRI's AuthConfig (all optional; none means anonymous). */
export interface RegistryCredentials {
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** base64 of `username:password`, used when `username` is empty. */
  readonly auth?: string | undefined;
  /** An OAuth2 refresh token, exchanged at the token server. */
  readonly identityToken?: string | undefined;
  /** A bearer token sent to the registry as it is. */
  readonly registryToken?: string | undefined;
}

interface CachedToken {
  readonly header: string;
  readonly expiresAt: number;
}

/** Token answers are small; anything bigger is not a token. */
const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;
/** Docker's token spec: a token without `expires_in` lives 60 s. */
const DEFAULT_TOKEN_SECONDS = 60;
/** Cache size above which expired entries are dropped. */
const MAX_CACHED = 512;

/** Authorises requests to registries; one per client, shared by all pulls. */
export class RegistryAuth {
  private readonly challenges = new Map<string, AuthChallenge>();
  private readonly tokens = new Map<string, CachedToken>();

  constructor(private readonly http: RegistryHttp, private readonly log: Logger) {}

  /**
   * The Authorization header to send to `endpoint` for `scope` before any 401, when the host asked
   * for authentication earlier with these credentials; fetches a token if the cached one expired.
   * @throws FailedPreconditionError when the token server refuses the credentials
   */
  async header(endpoint: RegistryEndpoint, scope: string, creds: RegistryCredentials, signal: AbortSignal, doing: string): Promise<string | undefined> {
    const remembered = this.challenges.get(hostKey(endpoint, creds));
    if (remembered === undefined) return undefined;
    const direct = directHeader(remembered, creds);
    if (direct !== NEEDS_TOKEN) return direct;
    // The scope of a remembered challenge was for an earlier request: ask only for this one's.
    const { scope: _earlier, ...params } = remembered.params;
    const request = tokenRequest(endpoint, { scheme: remembered.scheme, params }, scope, creds);
    const cached = this.tokens.get(request.key);
    if (cached !== undefined && cached.expiresAt > Date.now()) return cached.header;
    return this.renew(endpoint, request, creds, signal, doing);
  }

  /**
   * Answers the challenges of a 401 with a fresh header (a cached token is replaced, since the
   * registry refused it). Undefined when these credentials cannot answer them (Basic without a password).
   * @throws FailedPreconditionError when the token server refuses the credentials
   */
  async respond(
    endpoint: RegistryEndpoint, challenges: readonly AuthChallenge[], scope: string, creds: RegistryCredentials,
    signal: AbortSignal, doing: string,
  ): Promise<string | undefined> {
    const challenge = challenges.find(c => c.scheme === 'bearer' && c.params['realm'] !== undefined)
      ?? challenges.find(c => c.scheme === 'basic');
    if (challenge === undefined) return undefined;
    this.challenges.set(hostKey(endpoint, creds), challenge);
    const direct = directHeader(challenge, creds);
    if (direct !== NEEDS_TOKEN) return direct;
    return this.renew(endpoint, tokenRequest(endpoint, challenge, scope, creds), creds, signal, doing);
  }

  private async renew(endpoint: RegistryEndpoint, request: TokenRequest, creds: RegistryCredentials, signal: AbortSignal, doing: string): Promise<string> {
    this.tokens.delete(request.key);
    const token = await this.fetchToken(endpoint, request.challenge, request.scopes, creds, signal, doing);
    this.prune();
    this.tokens.set(request.key, token);
    return token.header;
  }

  /** Drops expired tokens once the cache grows, so a long-running daemon does not keep every token it ever had. */
  private prune(): void {
    if (this.tokens.size < MAX_CACHED) return;
    const now = Date.now();
    for (const [key, token] of this.tokens) if (token.expiresAt <= now) this.tokens.delete(key);
    if (this.challenges.size >= MAX_CACHED) this.challenges.clear();
  }

  private async fetchToken(
    endpoint: RegistryEndpoint, challenge: AuthChallenge, scopes: readonly string[], creds: RegistryCredentials,
    signal: AbortSignal, doing: string,
  ): Promise<CachedToken> {
    const realm = new URL(challenge.params['realm']!);
    const service = challenge.params['service'];
    const { username, password } = basicOf(creds);
    const tls = realm.host === new URL(endpoint.url).host ? endpoint : undefined;
    let res;
    if (creds.identityToken !== undefined && creds.identityToken !== '') {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'crikit' });
      if (service !== undefined) form.set('service', service);
      form.set('scope', scopes.join(' '));
      res = await this.http.send({
        method: 'POST', url: realm, tls, body: Buffer.from(form.toString()),
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      }, signal, doing);
      // containerd: a token server without the OAuth2 endpoint gets the GET form, with the token as password.
      if (res.status === 404 || res.status === 405) {
        discard(res);
        res = undefined;
      }
    }
    if (res === undefined) {
      const url = new URL(realm);
      if (service !== undefined) url.searchParams.set('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const secret = creds.identityToken !== undefined && creds.identityToken !== '' ? creds.identityToken : password;
      if (username !== undefined) url.searchParams.set('account', username);
      const headers: Record<string, string> = {};
      if (secret !== undefined) headers['authorization'] = basicHeader(username ?? '', secret);
      res = await this.http.send({ method: 'GET', url, tls, headers }, signal, doing);
    }
    const tooLarge = (): FailedPreconditionError =>
      new FailedPreconditionError(`${doing}: token server ${realm.host} answered more than ${MAX_TOKEN_RESPONSE_BYTES} bytes`);
    const body = await readBody(res, MAX_TOKEN_RESPONSE_BYTES, tooLarge);
    if (res.status !== 200) throw statusError(doing, `token server ${realm.host}`, res.status, registryMessage(res.status, body));
    let json: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      json = JSON.parse(body.toString('utf8')) as typeof json;
    } catch (err) {
      throw new FailedPreconditionError(`${doing}: token server ${realm.host} answered invalid json`, { cause: err });
    }
    const token = typeof json.token === 'string' && json.token !== '' ? json.token : json.access_token;
    if (typeof token !== 'string' || token === '') throw new FailedPreconditionError(`${doing}: token server ${realm.host} answered no token`);
    const seconds = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : DEFAULT_TOKEN_SECONDS;
    const issued = typeof json.issued_at === 'string' ? Date.parse(json.issued_at) : Number.NaN;
    const start = Number.isFinite(issued) && issued <= Date.now() ? issued : Date.now();
    // Renew a little early: a token that expires on its way to the registry costs a round trip.
    const expiresAt = start + seconds * 1000 * 0.9;
    this.log.debug({ host: endpoint.host, realm: realm.origin, scopes, seconds }, 'registry token fetched');
    return { header: `Bearer ${token}`, expiresAt };
  }
}

/** What a bearer challenge asks the token server for, and where its answer is cached. */
interface TokenRequest {
  readonly challenge: AuthChallenge;
  readonly scopes: readonly string[];
  readonly key: string;
}

const NEEDS_TOKEN = Symbol('NEEDS_TOKEN');

/** The header that answers `challenge` without a token server, undefined when none can, or NEEDS_TOKEN. */
function directHeader(challenge: AuthChallenge, creds: RegistryCredentials): string | undefined | typeof NEEDS_TOKEN {
  if (challenge.scheme === 'basic') {
    const { username, password } = basicOf(creds);
    return username !== undefined && password !== undefined ? basicHeader(username, password) : undefined;
  }
  if (creds.registryToken !== undefined && creds.registryToken !== '') return `Bearer ${creds.registryToken}`;
  return NEEDS_TOKEN;
}

function tokenRequest(endpoint: RegistryEndpoint, challenge: AuthChallenge, scope: string, creds: RegistryCredentials): TokenRequest {
  // The registry may ask for more than we need (e.g. a push scope); ask for both, ours first.
  const scopes = [...new Set([scope, ...(challenge.params['scope'] ?? '').split(' ').filter(s => s !== '')])];
  const key = [endpoint.host, challenge.params['realm'] ?? '', challenge.params['service'] ?? '', scopes.join(' '), credsKey(creds)].join('\0');
  return { challenge, scopes, key };
}

/** Username and password from explicit fields or from `auth` (base64 `user:pass`). */
export function basicOf(creds: RegistryCredentials): { username?: string; password?: string } {
  if (creds.username !== undefined && creds.username !== '') {
    return { username: creds.username, ...(creds.password !== undefined ? { password: creds.password } : {}) };
  }
  if (creds.auth !== undefined && creds.auth !== '') {
    const decoded = Buffer.from(creds.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return {};
}

function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/** A digest of the credentials, so tokens of one user never serve another, and no secret is a map key. */
export function credentialsKey(creds: RegistryCredentials | undefined): string {
  return credsKey(creds ?? {});
}

function credsKey(creds: RegistryCredentials): string {
  const { username, password } = basicOf(creds);
  return createHash('sha256')
    .update(JSON.stringify([username ?? '', password ?? '', creds.identityToken ?? '', creds.registryToken ?? '']))
    .digest('hex');
}

function hostKey(endpoint: RegistryEndpoint, creds: RegistryCredentials): string {
  return `${endpoint.url}\0${credsKey(creds)}`;
}
