import { createHash } from 'node:crypto';

/**
 * The chain ids of a stack of layers, as the OCI image spec defines them: the first is the first
 * diff id; each next one is `sha256(<previous chain id> + " " + <diff id>)`. Snapshots are keyed by them.
 */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? diffId : `sha256:${createHash('sha256').update(`${prev} ${diffId}`).digest('hex')}`);
  }
  return out;
}
