import { randomBytes } from 'node:crypto';
import { InternalError, isAlreadyExists, isNotFound, type ContainerdClient, type Logger } from '@crikit/core';
import { chainIds } from './chain-id.js';
import type { Descriptor } from './image-manifest.js';

/** One layer to apply: its compressed blob (already in the content store) and its diff id. */
export interface UnpackLayer {
  readonly blob: Descriptor;
  readonly diffId: string;
}

/**
 * Applies image layers onto snapshots with containerd's diff service, each committed under its
 * chain id. Idempotent: layers whose snapshot exists are skipped, so images that share a base share
 * its snapshots.
 */
export class LayerUnpacker {
  constructor(private readonly containerd: ContainerdClient, private readonly snapshotter: string, private readonly log: Logger) {}

  /**
   * Unpacks `layers` bottom-up under `lease`. With `ready`, a layer whose snapshot is missing is applied
   * once `ready(index)` resolves (a pull passes "its blob is in the content store", so layers unpack
   * while later ones still download); a rejection of `ready` ends the unpack with that error.
   * @returns the chain id of every layer, the top one last
   * @throws InternalError when a layer's content does not match its diff id
   */
  async unpack(
    layers: readonly UnpackLayer[],
    options: { lease: string; signal: AbortSignal; what: string; ready?: (index: number) => Promise<void> },
  ): Promise<string[]> {
    const chain = chainIds(layers.map(l => l.diffId));
    for (const [i, layer] of layers.entries()) {
      const chainId = chain[i]!;
      if (await this.existsHeld(chainId, options.lease, options.signal)) continue;
      await options.ready?.(i);
      await this.apply(layer, chainId, i > 0 ? chain[i - 1]! : '', options);
    }
    return chain;
  }

  /** True when a committed snapshot `key` exists. */
  async exists(key: string, signal: AbortSignal): Promise<boolean> {
    try {
      await this.containerd.snapshots.stat({ snapshotter: this.snapshotter, key }, { signal });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * True when committed snapshot `key` exists, then held by `lease`: added to the lease first, so that
   * containerd's GC cannot take it (an image removed a moment ago leaves its layers unreferenced) between
   * this look and the Prepare of the next layer on top of it, or before the image is recorded.
   */
  private async existsHeld(key: string, lease: string, signal: AbortSignal): Promise<boolean> {
    await this.containerd.leases.addResource({ id: lease, resource: { id: key, type: `snapshots/${this.snapshotter}` } }, { signal });
    return this.exists(key, signal);
  }

  private async apply(layer: UnpackLayer, chainId: string, parent: string, options: { lease: string; signal: AbortSignal; what: string }): Promise<void> {
    const call = { signal: options.signal, lease: options.lease };
    // A unique active key, so concurrent unpacks of the same layer do not collide; the winner's commit stands.
    const key = `extract-${randomBytes(6).toString('hex')}-${chainId}`;
    const { mounts } = await this.containerd.snapshots.prepare({ snapshotter: this.snapshotter, key, parent }, call);
    try {
      const { applied } = await this.containerd.diff.apply({ diff: layer.blob, mounts }, call);
      if (applied?.digest !== layer.diffId) {
        throw new InternalError(`${options.what}: layer ${layer.blob.digest} unpacks to ${applied?.digest ?? 'nothing'}, the image config says ${layer.diffId}`);
      }
      await this.containerd.snapshots.commit({ snapshotter: this.snapshotter, name: chainId, key }, call);
      this.log.debug({ layer: layer.blob.digest, chainId }, 'layer unpacked');
    } catch (err) {
      await this.containerd.snapshots.remove({ snapshotter: this.snapshotter, key }, { signal: AbortSignal.timeout(30_000) }).catch(() => {});
      if (isAlreadyExists(err)) return; // another pull committed this chain id first
      throw err;
    }
  }
}
