/**
 * HTTP transport of the registry client, on node:http and node:https: one keep-alive agent per TLS
 * setting (an endpoint's `ca` and `skip_verify`), retries with exponential backoff on 5xx, 429 and
 * dropped connections, redirects (blob downloads are often sent to a storage host), AbortSignal
 * everywhere. It knows nothing of authentication or of the distribution API.
 */
import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { abortError, backoffDelay } from '@crikit/core';
import { transportError } from './registry-errors.js';

/** How a request is retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included; 3 by default. */
  readonly tries: number;
  /** Wait before the second attempt, doubled for each further one; 200 ms by default. */
  readonly backoffMs: number;
  /** Longest wait a `Retry-After` header may impose; 10 s by default. */
  readonly maxRetryAfterMs: number;
}

/** TLS settings of the host a request goes to (a `RegistryEndpoint` fits). */
export interface TlsSettings {
  readonly skipVerify: boolean;
  readonly caPems: readonly string[];
}

/** One request. */
export interface HttpRequest {
  readonly method: 'GET' | 'HEAD' | 'POST';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: Buffer;
  /** TLS settings for `url`'s host; redirects to another host use the system's trust. */
  readonly tls?: TlsSettings | undefined;
  /** Follow 30x answers to GET and HEAD; true by default. */
  readonly followRedirects?: boolean;
}

/** A response whose body has not been read yet: read it, or `discard` it. */
export interface HttpResponse {
  readonly method: HttpRequest['method'];
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  readonly url: URL;
  readonly body: IncomingMessage;
}

/** Network errors after which the same request may succeed. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);
const MAX_REDIRECTS = 10;
const HEADERS_TIMEOUT_MS = 30_000;

/** True for a dropped or refused connection, worth another try. */
export function isTransientNetworkError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && TRANSIENT_CODES.has(code);
}

/** True for a status worth retrying: 408, 429 and 5xx but 501. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501);
}

/** Sends requests with retries and redirects; keeps one agent per TLS setting until `close()`. */
export class RegistryHttp {
  private readonly agents = new Map<string, HttpAgent>();
  private readonly policy: RetryPolicy;

  constructor(policy: Partial<RetryPolicy> = {}) {
    this.policy = { tries: 3, backoffMs: 200, maxRetryAfterMs: 10_000, ...policy };
  }

  /**
   * Sends `req`, retrying on transient network errors and retryable statuses. The last answer is
   * returned whatever its status; the caller reads or discards its body.
   * @param doing prefixes error messages (`pull "x"`)
   * @throws UnavailableError when the host stays unreachable, CancelledError/DeadlineExceededError when `signal` fires
   */
  async send(req: HttpRequest, signal: AbortSignal, doing: string): Promise<HttpResponse> {
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw abortError(signal, doing);
      let res: HttpResponse;
      try {
        res = await this.sendFollowing(req, signal);
      } catch (err) {
        if (signal.aborted) throw abortError(signal, doing);
        if (!isTransientNetworkError(err) || attempt >= this.policy.tries) throw transportError(doing, req.url.host, err);
        await this.backoff(attempt, undefined, signal, doing);
        continue;
      }
      if (!isRetryableStatus(res.status) || attempt >= this.policy.tries) return res;
      discard(res);
      await this.backoff(attempt, res.headers['retry-after'], signal, doing);
    }
  }

  /** Destroys every pooled connection. Idempotent; the client stays usable (new agents are made). */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private async sendFollowing(req: HttpRequest, signal: AbortSignal): Promise<HttpResponse> {
    let url = req.url;
    let headers = { ...req.headers };
    for (let hop = 0; ; hop++) {
      const sameOrigin = url.origin === req.url.origin;
      const res = await this.sendOnce({ ...req, url, headers, tls: sameOrigin ? req.tls : undefined }, signal);
      const location = res.headers.location;
      const redirect = [301, 302, 303, 307, 308].includes(res.status) && location !== undefined
        && req.followRedirects !== false && req.method !== 'POST';
      if (!redirect || hop >= MAX_REDIRECTS) return res;
      discard(res);
      const next = new URL(location, url);
      // Credentials never follow a redirect to another origin: another host (a storage backend),
      // another port, or another scheme (https to plain http on the same host would send them in clear).
      if (next.origin !== req.url.origin) headers = withoutCredentials(headers);
      url = next;
    }
  }

  private sendOnce(req: HttpRequest, signal: AbortSignal): Promise<HttpResponse> {
    const https = req.url.protocol === 'https:';
    const headers: Record<string, string | string[]> = { 'user-agent': 'crikit/0.1' };
    for (const [name, value] of Object.entries(req.headers ?? {})) headers[name.toLowerCase()] = typeof value === 'string' ? value : [...value];
    if (req.body !== undefined) headers['content-length'] = String(req.body.length);
    return new Promise((resolve, reject) => {
      const options = { method: req.method, headers, signal, agent: this.agentFor(https, req.tls) };
      const request = (https ? httpsRequest : httpRequest)(req.url, options, body => {
        request.setTimeout(0);
        resolve({ method: req.method, status: body.statusCode ?? 0, headers: body.headers, url: req.url, body });
      });
      request.setTimeout(HEADERS_TIMEOUT_MS, () => {
        request.destroy(Object.assign(new Error(`no answer within ${HEADERS_TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' }));
      });
      request.on('error', reject);
      request.end(req.body);
    });
  }

  private agentFor(https: boolean, tls: TlsSettings | undefined): HttpAgent {
    const skipVerify = https && tls?.skipVerify === true;
    const caPems = https ? tls?.caPems ?? [] : [];
    const caKey = caPems.length === 0 ? '' : createHash('sha256').update(caPems.join('\n')).digest('hex');
    const key = `${https ? 'https' : 'http'}|${skipVerify}|${caKey}`;
    let agent = this.agents.get(key);
    if (agent === undefined) {
      agent = https
        ? new HttpsAgent({
          keepAlive: true,
          rejectUnauthorized: !skipVerify,
          // containerd adds the host's CAs to the system pool; Node's `ca` replaces it, so pass both.
          ...(caPems.length > 0 ? { ca: [...rootCertificates, ...caPems] } : {}),
        })
        : new HttpAgent({ keepAlive: true });
      this.agents.set(key, agent);
    }
    return agent;
  }

  private async backoff(attempt: number, retryAfter: string | undefined, signal: AbortSignal, doing: string): Promise<void> {
    let delay = backoffDelay({ initialMs: this.policy.backoffMs }, attempt);
    const seconds = retryAfter !== undefined ? Number(retryAfter) : Number.NaN;
    if (Number.isFinite(seconds) && seconds >= 0) delay = Math.max(delay, Math.min(seconds * 1000, this.policy.maxRetryAfterMs));
    // Up to 20% jitter so that parallel downloads do not retry in lockstep.
    delay += Math.random() * delay * 0.2;
    try {
      await sleep(delay, undefined, { signal });
    } catch {
      throw abortError(signal, doing);
    }
  }
}

/**
 * Reads the whole body, refusing more than `limit` bytes; a body idle for 30 s is abandoned.
 * @throws the error `tooLarge` builds, or the stream's error (ETIMEDOUT when idle, AbortError)
 */
export async function readBody(res: HttpResponse, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const idle = (): NodeJS.Timeout => setTimeout(() => {
    res.body.destroy(Object.assign(new Error(`no data within ${HEADERS_TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' }));
  }, HEADERS_TIMEOUT_MS);
  let timer = idle();
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      clearTimeout(timer);
      size += chunk.length;
      if (size > limit) {
        res.body.destroy();
        throw tooLarge();
      }
      chunks.push(chunk);
      timer = idle();
    }
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks);
}

/** Header names that carry credentials, compared in lower case (HTTP header names are case-insensitive). */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie']);

/** `headers` without those that carry credentials, whatever their case. */
export function withoutCredentials<V>(headers: Readonly<Record<string, V>>): Record<string, V> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !CREDENTIAL_HEADERS.has(name.toLowerCase())));
}

/** Throws away the body so the connection returns to the pool (small bodies) or closes (large ones). */
export function discard(res: HttpResponse): void {
  const length = Number(res.headers['content-length'] ?? Number.NaN);
  if (res.method === 'HEAD' || (Number.isFinite(length) && length <= 64 * 1024)) {
    res.body.resume();
    res.body.on('error', () => undefined);
  } else {
    res.body.destroy();
  }
}
