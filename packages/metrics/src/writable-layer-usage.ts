import { inject, injectable } from 'inversify';
import { ContainerdClient, isNotFound, nowNs, Snapshotter } from '@crikit/core';
import { MetricsConfig } from './metrics-config.js';

/** What a container's writable layer (its rootfs snapshot) uses. */
export interface LayerUsage {
  /** When it was measured, ns since the epoch. */
  readonly timestampNs: bigint;
  readonly usedBytes: bigint;
  readonly inodesUsed: bigint;
}

/**
 * The snapshotter's Usage of containers' writable layers (snapshot key = container id), kept for
 * `writableLayerCacheMs` as containerd's CRI keeps its own (it re-measures every 10 s in the
 * background). Measuring walks the layer's upper dir, so it is never done per stats call.
 */
@injectable()
export class WritableLayerUsage {
  private readonly cache = new Map<string, { readonly atMs: number; readonly usage: LayerUsage | undefined }>();
  private readonly inFlight = new Map<string, Promise<LayerUsage | undefined>>();
  private root: Promise<string> | undefined;

  constructor(
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(Snapshotter) private readonly snapshotter: string,
    @inject(MetricsConfig) private readonly config: MetricsConfig,
  ) {}

  /**
   * The usage of each container's writable layer; undefined for one that has no snapshot.
   * Stale entries are measured again, all in parallel.
   * @throws UnavailableError when containerd cannot be reached
   */
  async usage(ids: readonly string[], signal: AbortSignal): Promise<Map<string, LayerUsage | undefined>> {
    const now = performance.now();
    const entries = await Promise.all(ids.map(async id => {
      const cached = this.cache.get(id);
      if (cached && now - cached.atMs < this.config.writableLayerCacheMs) return [id, cached.usage] as const;
      return [id, await this.measure(id, signal)] as const;
    }));
    for (const [id, { atMs }] of this.cache) if (now - atMs > 10 * 60_000) this.cache.delete(id);
    return new Map(entries);
  }

  /**
   * The snapshotter's root directory (the CRI `fs_id.mountpoint`), from containerd's introspection.
   * @throws UnavailableError when containerd cannot be reached
   */
  mountpoint(signal: AbortSignal): Promise<string> {
    this.root ??= this.containerd.introspection
      .plugins({ filters: [`type==io.containerd.snapshotter.v1,id==${this.snapshotter}`] }, { signal })
      .then(({ plugins }) => plugins[0]?.exports['root'] ?? '');
    this.root.catch(() => { this.root = undefined; });
    return this.root;
  }

  /** Forgets a container's measurement (it was removed). */
  forget(id: string): void {
    this.cache.delete(id);
  }

  private measure(id: string, signal: AbortSignal): Promise<LayerUsage | undefined> {
    const running = this.inFlight.get(id);
    if (running) return running;
    const p = this.containerd.snapshots.usage({ snapshotter: this.snapshotter, key: id }, { signal })
      .then(u => ({ timestampNs: nowNs(), usedBytes: u.size, inodesUsed: u.inodes }) as LayerUsage | undefined)
      .catch(err => { if (isNotFound(err)) return undefined; throw err; })
      .then(usage => { this.cache.set(id, { atMs: performance.now(), usage }); return usage; })
      .finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, p);
    return p;
  }
}
