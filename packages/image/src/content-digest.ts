/**
 * Digests of content as OCI writes them (`<algorithm>:<hex>`), for the algorithms go-digest knows.
 */
import { createHash, type Hash } from 'node:crypto';
import { FailedPreconditionError } from '@crikit/core';

const ALGORITHMS: ReadonlySet<string> = new Set(['sha256', 'sha384', 'sha512']);

/**
 * `<algorithm>:<hex>` of `data`, with the algorithm of `like` (a digest the result will be compared
 * with) or sha256. Pure.
 * @throws FailedPreconditionError when `like` names an algorithm other than sha256, sha384, sha512
 */
export function computeDigest(data: Buffer, like?: string): string {
  const hash = digestHasher(like ?? 'sha256:');
  return `${hash.algorithm}:${hash.hash.update(data).digest('hex')}`;
}

/**
 * A fresh hash for the algorithm of `digest`, to feed bytes into and compare at the end.
 * @throws FailedPreconditionError for an unsupported algorithm
 */
export function digestHasher(digest: string): { readonly algorithm: string; readonly hash: Hash } {
  const algorithm = digest.slice(0, Math.max(0, digest.indexOf(':')));
  if (!ALGORITHMS.has(algorithm)) throw new FailedPreconditionError(`unsupported digest algorithm in "${digest}"`);
  return { algorithm, hash: createHash(algorithm) };
}
