/**
 * Trying a registry's endpoints in order (mirrors, then the server), as containerd's resolver and
 * fetcher do: any failure moves on to the next endpoint, and only a cancelled call stops at once.
 * When every endpoint fails, the error reported is the most telling one:
 *
 *   some endpoint answered with an error but 404  → the last such answer (closest to the upstream)
 *   the last endpoint (the server) answered 404    → the caller's NotFoundError
 *   otherwise                                      → the first connection error
 */
import { abortError, CriError, type Logger, type NotFoundError, UnavailableError } from '@crikit/core';
import { RegistryUnreachableError, transportError } from './registry-errors.js';
import type { RegistryCapability, RegistryEndpoint } from './registry-hosts.js';

/** What an attempt on one endpoint returns when the endpoint does not have the object (404). */
export const NOT_HERE = Symbol('NOT_HERE');

/** What `tryEndpoints` needs besides the attempt. */
export interface FallbackContext {
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** Prefixes error messages: `pull "x"`. */
  readonly doing: string;
  /** The error when the object is missing; `host` is the last endpoint that answered 404. */
  readonly notFound: (host: string) => NotFoundError;
}

/**
 * Runs `attempt` on each endpoint that has every capability in `needs`, in order, until one
 * succeeds. `attempt` returns `NOT_HERE` for a 404 and throws for anything else; errors other than
 * CriErrors (a body cut short, a socket error) count as connection failures.
 * @throws the chosen error (see above); UnavailableError when no endpoint has the capabilities;
 * CancelledError or DeadlineExceededError as soon as the signal fires
 */
export async function tryEndpoints<T>(
  endpoints: readonly RegistryEndpoint[], needs: readonly RegistryCapability[], context: FallbackContext,
  attempt: (endpoint: RegistryEndpoint) => Promise<T | typeof NOT_HERE>,
): Promise<T> {
  const { log, signal, doing } = context;
  const usable = endpoints.filter(e => needs.every(c => e.capabilities.includes(c)));
  if (usable.length === 0) {
    throw new UnavailableError(`${doing}: no registry endpoint is configured with capabilities ${needs.join(', ')}`);
  }
  let answered: CriError | undefined;
  let unreachable: CriError | undefined;
  let lastHost = usable[0]!.host;
  let lastSaidNotHere = false;
  for (const endpoint of usable) {
    lastSaidNotHere = false;
    let result: T | typeof NOT_HERE;
    try {
      result = await attempt(endpoint);
    } catch (err) {
      // The caller gave up: trying another endpoint would only waste its time.
      if (signal.aborted) throw abortError(signal, doing);
      if (err instanceof RegistryUnreachableError || !(err instanceof CriError)) {
        unreachable ??= err instanceof CriError ? err : transportError(doing, endpoint.host, err);
      } else {
        answered = err;
      }
      log.info({ endpoint: endpoint.url, err: err instanceof Error ? err.message : String(err) }, 'registry endpoint failed, trying the next one');
      continue;
    }
    if (result !== NOT_HERE) return result;
    lastHost = endpoint.host;
    lastSaidNotHere = true;
    log.debug({ endpoint: endpoint.url }, 'registry endpoint answered 404, trying the next one');
  }
  if (answered !== undefined) throw answered;
  if (unreachable !== undefined && !lastSaidNotHere) throw unreachable;
  throw context.notFound(lastHost);
}
