import { inject, injectable } from 'inversify';
import { ContainerdClient, deadline, isNotFound, Logger, nowNs, Snapshotter } from '@crikit/core';
import { MetricsConfig } from './metrics-config.js';
import { untilAborted } from './until-aborted.js';

/** What a container's writable layer (its rootfs snapshot) uses. */
export interface LayerUsage {
  /** When it was measured, ns since the epoch. */
  readonly timestampNs: bigint;
  readonly usedBytes: bigint;
  readonly inodesUsed: bigint;
}

/** How long one measurement may take. */
const measureTimeoutMs = 60_000;

/**
 * The snapshotter's Usage of containers' writable layers (snapshot key = container id), kept for
 * `writableLayerCacheMs` as containerd's CRI keeps its own (it re-measures every 10 s in the
 * background). Measuring walks the layer's upper dir, so a stats call never waits for it once a
 * layer has been measured: a stale figure is answered at once and measured again in the background.
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
    @inject(Logger) private readonly log: Logger,
  ) {}

  /**
   * The usage of each container's writable layer; undefined for one that has no snapshot. A layer
   * never measured is measured now (all in parallel); a stale one answers its last figure and is
   * measured again in the background.
   * @throws UnavailableError when containerd cannot be reached for a first measurement
   */
  async usage(ids: readonly string[], signal: AbortSignal): Promise<Map<string, LayerUsage | undefined>> {
    const now = performance.now();
    const entries = await untilAborted(Promise.all(ids.map(async id => {
      const cached = this.cache.get(id);
      if (!cached) return [id, await this.measure(id)] as const;
      if (now - cached.atMs >= this.config.writableLayerCacheMs) this.measure(id).catch(err => this.log.debug({ container: id, err }, 'writable layer usage not measured'));
      return [id, cached.usage] as const;
    })), signal, 'measure writable layers');
    for (const [id, { atMs }] of this.cache) if (now - atMs > 10 * 60_000) this.cache.delete(id);
    return new Map(entries);
  }

  /**
   * The snapshotter's root directory (the CRI `fs_id.mountpoint`), from containerd's introspection.
   * @throws UnavailableError when containerd cannot be reached
   */
  mountpoint(signal: AbortSignal): Promise<string> {
    if (!this.root) {
      const limit = deadline([], measureTimeoutMs);
      this.root = this.containerd.introspection
        .plugins({ filters: [`type==io.containerd.snapshotter.v1,id==${this.snapshotter}`] }, { signal: limit.signal })
        .then(({ plugins }) => plugins[0]?.exports['root'] ?? '')
        .finally(() => limit.dispose());
      this.root.catch(() => { this.root = undefined; });
    }
    return untilAborted(this.root, signal, 'find the snapshotter root');
  }

  // Shared by every caller waiting for this layer, so it runs under its own deadline, not a caller's signal.
  private measure(id: string): Promise<LayerUsage | undefined> {
    const running = this.inFlight.get(id);
    if (running) return running;
    const limit = deadline([], measureTimeoutMs);
    const p = this.containerd.snapshots.usage({ snapshotter: this.snapshotter, key: id }, { signal: limit.signal })
      .then(u => ({ timestampNs: nowNs(), usedBytes: u.size, inodesUsed: u.inodes }) as LayerUsage | undefined)
      .catch(err => { if (isNotFound(err)) return undefined; throw err; })
      .then(usage => { this.cache.set(id, { atMs: performance.now(), usage }); return usage; })
      .finally(() => { limit.dispose(); this.inFlight.delete(id); });
    this.inFlight.set(id, p);
    return p;
  }
}
