import { randomBytes } from 'node:crypto';
import type { ContainerdClient } from '../contracts/containerd-client.js';
import { isNotFound } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * Runs `fn` under a fresh containerd lease, so what it creates (content, snapshots) is safe from
 * containerd's GC until something else references it; the lease is deleted afterwards, and expires
 * by itself within the hour should crikit die first.
 */
export async function withLease<T>(containerd: ContainerdClient, what: string, log: Logger, signal: AbortSignal, fn: (lease: string) => Promise<T>): Promise<T> {
  const id = `${leasePrefix}${what}-${randomBytes(8).toString('hex')}`;
  held.add(id);
  try {
    await containerd.leases.create({ id, labels: { 'containerd.io/gc.expire': new Date(Date.now() + 3_600_000).toISOString() } }, { signal });
  } catch (err) {
    held.delete(id);
    throw err;
  }
  try {
    return await fn(id);
  } finally {
    // A lease this delete could not reach (containerd down) is left to removeStaleLeases.
    await containerd.leases.delete({ id }, { signal: AbortSignal.timeout(30_000) }).catch(err => log.warn({ lease: id, err }, 'delete lease'));
    held.delete(id);
  }
}

/** What every lease withLease makes is named with. */
const leasePrefix = 'crikit-';
/** The leases of this process's withLease calls still running. */
const held = new Set<string>();

/**
 * Deletes crikit's leases that no withLease call of this process holds: those a killed crikitd or a
 * delete that containerd was down for left. Resolves with their ids.
 */
export async function removeStaleLeases(containerd: ContainerdClient, signal: AbortSignal): Promise<string[]> {
  const { leases } = await containerd.leases.list({ filters: [] }, { signal });
  const stale = leases.map(l => l.id).filter(id => id.startsWith(leasePrefix) && !held.has(id));
  for (const id of stale) await containerd.leases.delete({ id }, { signal }).catch(err => { if (!isNotFound(err)) throw err; });
  return stale;
}
