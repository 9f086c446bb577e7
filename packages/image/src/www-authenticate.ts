/**
 * Parsing of `WWW-Authenticate` headers (RFC 7235 §4.1), as registries send them:
 *
 *   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"
 *   Basic realm="Registry Realm"
 *
 * A header may hold several challenges separated by commas, and a response may carry several headers.
 */

/** One authentication challenge: the scheme (lowercase) and its parameters (names lowercase). */
export interface AuthChallenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Parses every challenge in `header` (one header value, or the values of repeated headers). Lenient:
 * malformed parts are skipped, never thrown, since a registry's header is not ours to reject. Pure.
 */
export function parseWwwAuthenticate(header: string | readonly string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  if (typeof header !== 'string') return header.flatMap(h => parseWwwAuthenticate(h));
  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  let i = 0;
  const n = header.length;
  const skip = (chars: RegExp): void => {
    while (i < n && chars.test(header[i]!)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && TOKEN_CHAR.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  const quoted = (): string => {
    let out = '';
    i++; // opening quote
    while (i < n && header[i] !== '"') {
      if (header[i] === '\\' && i + 1 < n) i++;
      out += header[i];
      i++;
    }
    i++; // closing quote
    return out;
  };

  while (i < n) {
    skip(/[\s,]/);
    const scheme = token();
    if (scheme === '') {
      i++; // not a token character: skip it and resynchronise
      continue;
    }
    const challenge = { scheme: scheme.toLowerCase(), params: {} as Record<string, string> };
    challenges.push(challenge);
    // Parameters follow until a token that is not followed by '=' starts the next challenge.
    for (;;) {
      skip(/[\s,]/);
      const mark = i;
      const name = token();
      if (name === '') break;
      skip(/[ \t]/);
      if (header[i] !== '=') {
        i = mark; // a new scheme
        break;
      }
      i++;
      skip(/[ \t]/);
      if (header[i] === '=') {
        // token68 such as `Negotiate abc==`: keep it as the value of the empty name and move on.
        while (i < n && header[i] === '=') i++;
        challenge.params[''] = `${name}=`;
        continue;
      }
      challenge.params[name.toLowerCase()] = header[i] === '"' ? quoted() : token();
    }
  }
  return challenges;
}
