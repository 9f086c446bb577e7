/**
 * Merges environment lists the way containerd's `WithEnv` does (`replaceOrAppendEnvValues`): each
 * `KEY=value` of `overrides` replaces the entry of `base` with the same key in place, or is
 * appended; a bare `KEY` (no `=`) removes that key. Later lists win over earlier ones.
 */
export function mergeEnv(base: readonly string[], ...overrides: readonly (readonly string[])[]): string[] {
  const result: (string | undefined)[] = [...base];
  const index = new Map<string, number>();
  result.forEach((entry, i) => index.set(keyOf(entry ?? ''), i));
  for (const entry of overrides.flat()) {
    const key = keyOf(entry);
    const at = index.get(key);
    if (!entry.includes('=')) {
      // A bare key asks for the variable to be unset.
      if (at !== undefined) result[at] = undefined;
      index.delete(key);
      continue;
    }
    if (at !== undefined) result[at] = entry;
    else index.set(key, result.push(entry) - 1);
  }
  return result.filter((e): e is string => e !== undefined);
}

const keyOf = (entry: string): string => {
  const eq = entry.indexOf('=');
  return eq < 0 ? entry : entry.slice(0, eq);
};
