/**
 * How registry answers become crikit errors. containerd reports most of these as Unknown
 * ("unexpected status 401 Unauthorized", "pull access denied"); crikit gives each a kind that a
 * kubelet and an operator can act on:
 *
 *   401, 403                → FailedPreconditionError  (credentials missing or refused)
 *   404                     → NotFoundError            (`image "x" not found` for manifests)
 *   429 after retries       → ResourceExhaustedError   (a pull rate limit)
 *   5xx after retries       → UnavailableError
 *   other 4xx, odd statuses → FailedPreconditionError  (the registry refuses the request)
 *   connection failures     → UnavailableError         (after retries)
 */
import {
  FailedPreconditionError, NotFoundError, ResourceExhaustedError, UnavailableError, type CriError,
} from '@crikit/core';

/**
 * The message in a registry's error body (`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`),
 * else a short text body, else the status' usual meaning. Lowercase first letter, no trailing period.
 */
export function registryMessage(status: number, body?: Buffer): string {
  let message: string | undefined;
  const text = body?.toString('utf8').trim() ?? '';
  if (text.startsWith('{')) {
    try {
      const json = JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[]; error?: unknown; details?: unknown };
      const first = json.errors?.[0];
      if (typeof first?.message === 'string' && first.message !== '') message = first.message;
      else if (typeof first?.code === 'string') message = first.code;
      else if (typeof json.details === 'string') message = json.details; // token servers
      else if (typeof json.error === 'string') message = json.error;
    } catch {
      // not JSON after all: fall through to the text
    }
  }
  if (message === undefined && text !== '' && text.length <= 200 && !text.startsWith('<')) message = text;
  message ??= STATUS_TEXT[status] ?? `http status ${status}`;
  message = message.replace(/\s+/g, ' ').replace(/\.$/, '');
  return message.charAt(0).toLowerCase() + message.slice(1);
}

/**
 * The error for an unexpected status. `who` names the server (`registry 127.0.0.1:5000`,
 * `token server auth.example`), `message` is what it said.
 * Reads: `pull "127.0.0.1:5000/busybox:latest": registry 127.0.0.1:5000 answered 401: authentication required`.
 */
export function statusError(doing: string, who: string, status: number, message: string): CriError {
  const text = `${doing}: ${who} answered ${status}: ${message}`;
  if (status === 404) return new NotFoundError(text);
  if (status === 429) return new ResourceExhaustedError(text);
  if (status >= 500) return new UnavailableError(text);
  return new FailedPreconditionError(text);
}

/**
 * A registry (or token server, or storage host) that gave no answer: the connection was refused,
 * reset or timed out, or TLS failed. Its kind is `unavailable`; the class lets endpoint fallback
 * tell it from errors the registry answered with.
 */
export class RegistryUnreachableError extends UnavailableError {}

/** The error for a request that never got an answer: refused, reset, timed out, TLS refused. */
export function transportError(doing: string, host: string, err: unknown): RegistryUnreachableError {
  const reason = err instanceof Error ? err.message : String(err);
  return new RegistryUnreachableError(`${doing}: registry ${host} unreachable: ${reason}`, { cause: err });
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'bad request', 401: 'authentication required', 403: 'access denied', 404: 'not found',
  405: 'method not allowed', 408: 'request timeout', 416: 'range not satisfiable', 429: 'too many requests',
  500: 'internal server error', 502: 'bad gateway', 503: 'service unavailable', 504: 'gateway timeout',
};
