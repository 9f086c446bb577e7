/**
 * Allow-lists of annotation keys, as containerd's runtime options `pod_annotations` and
 * `container_annotations`: a pod's or container's annotation reaches the OCI spec (where shims,
 * runc hooks and NRI plugins read it) only when its key matches one of the handler's patterns.
 * Patterns use Go's `path.Match` syntax, as containerd does: `*` any run of characters but `/`,
 * `?` one such character, `[a-z]` / `[^a-z]` classes, `\` escapes the next character.
 */

const cache = new Map<string, RegExp>();

/**
 * The regular expression of one pattern.
 * @throws Error naming the pattern when it is malformed (an unclosed class, a trailing `\`)
 */
export function annotationPatternRegExp(pattern: string): RegExp {
  const known = cache.get(pattern);
  if (known) return known;
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else if (ch === '\\') {
      if (i + 1 >= pattern.length) throw new Error(`annotation pattern "${pattern}" ends with "\\"`);
      out += escape(pattern[++i]!);
    } else if (ch === '[') {
      const end = classEnd(pattern, i);
      if (end < 0) throw new Error(`annotation pattern "${pattern}" has an unclosed "["`);
      let body = pattern.slice(i + 1, end);
      const negated = body.startsWith('^');
      if (negated) body = body.slice(1);
      if (body === '') throw new Error(`annotation pattern "${pattern}" has an empty class`);
      out += `[${negated ? '^/' : ''}${body.replace(/\\(.)/g, (_m, c: string) => escape(c)).replace(/[\]^]/g, '\\$&')}]`;
      i = end;
    } else out += escape(ch);
  }
  const re = new RegExp(`^${out}$`);
  if (cache.size < 1024) cache.set(pattern, re);
  return re;
}

/** Whether `pattern` is well formed (for config validation). */
export function isAnnotationPattern(pattern: string): boolean {
  try {
    annotationPatternRegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

/** The entries of `annotations` whose key matches one of `patterns`; none when `patterns` is empty. */
export function passthroughAnnotations(annotations: Readonly<Record<string, string>>, patterns: readonly string[]): Record<string, string> {
  if (patterns.length === 0) return {};
  const res = patterns.map(annotationPatternRegExp);
  return Object.fromEntries(Object.entries(annotations).filter(([key]) => res.some(re => re.test(key))));
}

function escape(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

// Index of the "]" that closes the class opened at `start`, skipping escaped characters; -1 if none.
function classEnd(pattern: string, start: number): number {
  for (let i = start + 1; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']' && i > start + 1 && !(i === start + 2 && pattern[start + 1] === '^')) return i;
  }
  return -1;
}
