import { randomBytes } from 'node:crypto';
import type { ContainerdClient } from '../contracts/containerd-client.js';
import type { Logger } from '../logger.js';

/**
 * Runs `fn` under a fresh containerd lease, so what it creates (content, snapshots) is safe from
 * containerd's GC until something else references it; the lease is deleted afterwards, and expires
 * by itself within the hour should crikit die first.
 */
export async function withLease<T>(containerd: ContainerdClient, what: string, log: Logger, signal: AbortSignal, fn: (lease: string) => Promise<T>): Promise<T> {
  const id = `crikit-${what}-${randomBytes(8).toString('hex')}`;
  await containerd.leases.create({ id, labels: { 'containerd.io/gc.expire': new Date(Date.now() + 3_600_000).toISOString() } }, { signal });
  try {
    return await fn(id);
  } finally {
    await containerd.leases.delete({ id }, { signal: AbortSignal.timeout(30_000) }).catch(err => log.warn({ lease: id, err }, 'delete lease'));
  }
}
