import { inject, injectable } from 'inversify';
import type { cri } from '@crikit/api';
import { nowNs, ContainerdClient, KeyedSingleFlight, NotFoundError } from '@crikit/core';
import { ImageConfig } from './image-config.js';

/** How long a measurement is reused: summing every snapshot's usage is one RPC per snapshot. */
const cacheMs = 5_000;

/**
 * CRI ImageFsInfo: the snapshotter's directory and the bytes and inodes its snapshots use, as
 * containerd's CRI reports them. The kubelet's image GC reads it.
 */
@injectable()
export class ImageFsUsage {
  private cached: { at: number; value: cri.ImageFsInfoResponse } | undefined;
  private mountpoint: string | undefined;
  private readonly flight = new KeyedSingleFlight<'fs', cri.ImageFsInfoResponse>();

  constructor(
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(ImageConfig) private readonly config: ImageConfig,
  ) {}

  /**
   * The usage of the image filesystem (container layers live on the same one).
   * @throws NotFoundError when containerd has no such snapshotter; UnavailableError when it does not answer
   */
  async info(signal: AbortSignal): Promise<cri.ImageFsInfoResponse> {
    if (this.cached && Date.now() - this.cached.at < cacheMs) return this.cached.value;
    return this.flight.do('fs', async () => {
      const value = await this.measure(signal);
      this.cached = { at: Date.now(), value };
      return value;
    });
  }

  private async measure(signal: AbortSignal): Promise<cri.ImageFsInfoResponse> {
    const snapshotter = this.config.snapshotter;
    this.mountpoint ??= await this.snapshotterRoot(signal);
    let bytes = 0n;
    let inodes = 0n;
    for await (const page of this.containerd.snapshots.list({ snapshotter, filters: [] }, { signal })) {
      for (const info of page.info) {
        const usage = await this.containerd.snapshots.usage({ snapshotter, key: info.name }, { signal }).catch(() => undefined);
        bytes += usage?.size ?? 0n;
        inodes += usage?.inodes ?? 0n;
      }
    }
    const usage: cri.FilesystemUsage = {
      timestamp: nowNs(),
      fsId: { mountpoint: this.mountpoint },
      usedBytes: { value: bytes },
      inodesUsed: { value: inodes },
    };
    return { imageFilesystems: [usage], containerFilesystems: [] };
  }

  private async snapshotterRoot(signal: AbortSignal): Promise<string> {
    const { plugins } = await this.containerd.introspection.plugins({ filters: [`type==io.containerd.snapshotter.v1,id==${this.config.snapshotter}`] }, { signal });
    const root = plugins[0]?.exports['root'];
    if (!root) throw new NotFoundError(`image fs info: containerd has no snapshotter "${this.config.snapshotter}"`);
    return root;
  }
}
