import fs from 'node:fs/promises';
import path from 'node:path';
import { inject, injectable } from 'inversify';
import type { cri } from '@crikit/api';
import {
  ContainerdClient, ContainerStore, ignoreNotFound, InvalidArgumentError, Logger, PathsConfig, ProcessRunner, Snapshotter, StartOrder,
  type CleanupStack, type ContainerRecord, type Startable,
} from '@crikit/core';
import type { ImageVolumeRequest } from './image-volume-plan.js';
import { isMountPoint, mountReadOnly, unmount } from './image-volume-mounts.js';
import { resolveInRoot } from './rootfs-path.js';

/** Label on each image volume snapshot: the container it belongs to (found again by the start-up sweep). */
export const imageVolumeLabel = 'io.crikit.image-volume.container';

/** What CreateContainer builds the spec and the containerd container from once the volumes are mounted. */
export interface MountedImageVolumes {
  /** `config.mounts` with each image volume turned into a read-only bind of its host mount dir. */
  readonly mounts: cri.Mount[];
  /** GC reference labels for the containerd container: its volumes' snapshots live as long as it. */
  readonly labels: Record<string, string>;
}

/**
 * Image volumes (a CRI Mount with `image` set): each is a read-only View snapshot of the image's
 * top layer chain id, mounted on `<stateDir>/image-volumes/<container id>/<mount index>` and bound
 * read-only into the container. One per container mount (containerd's CRI shares one per pod and
 * image); it goes with its container: RemoveContainer unmounts it and removes the snapshot. The
 * containerd container refers to the snapshot by a GC label, so containerd's GC keeps it (and the
 * image layers under it) while the container exists, even once RemoveImage removed the image.
 * At start-up the volumes of known containers are mounted again where missing (after a reboot), and
 * those of containers that no longer exist (a crash mid-create or mid-remove) are swept.
 */
@injectable()
export class ImageVolumes implements Startable {
  readonly startName = 'image volumes';
  // After container recovery: the store knows every container.
  readonly startOrder = StartOrder.recovery + 2;

  constructor(
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(ContainerStore) private readonly store: ContainerStore,
    @inject(PathsConfig) private readonly paths: PathsConfig,
    @inject(Snapshotter) private readonly snapshotter: string,
    @inject(Logger) private readonly log: Logger,
    @inject(ProcessRunner) private readonly runner: ProcessRunner,
  ) {}

  /** The directory holding container `id`'s image volume mounts. */
  dir(id: string): string {
    return path.join(this.paths.stateDir, 'image-volumes', id);
  }

  /**
   * Views and mounts each requested volume for container `id` under `lease` (which holds the
   * snapshots until the containerd container refers to them), pushing the undo of every step on
   * `cleanup`.
   * @throws InvalidArgumentError when `image_sub_path` is missing from the image or not a directory
   */
  async mount(id: string, config: cri.ContainerConfig, requests: readonly ImageVolumeRequest[],
    context: { lease: string; cleanup: CleanupStack; signal: AbortSignal; what: string }): Promise<MountedImageVolumes> {
    const { lease, cleanup, signal, what } = context;
    const mounts = [...config.mounts];
    const labels: Record<string, string> = {};
    if (requests.length > 0) cleanup.push(`remove image volume dirs of ${id}`, () => this.removeDirs(id));
    for (const { index, mount, image } of requests) {
      const key = this.key(id, index);
      const target = path.join(this.dir(id), String(index));
      const { mounts: view } = await this.containerd.snapshots.view(
        { snapshotter: this.snapshotter, key, parent: image.metadata.chainId, labels: { [imageVolumeLabel]: id } }, { signal, lease });
      cleanup.push(`remove image volume snapshot ${key}`, s => ignoreNotFound(this.containerd.snapshots.remove({ snapshotter: this.snapshotter, key }, { signal: s })));
      await fs.mkdir(target, { recursive: true, mode: 0o700 });
      await mountReadOnly(this.runner, view, target, signal);
      cleanup.push(`unmount image volume ${target}`, s => unmount(this.runner, target, s));
      const hostPath = mount.imageSubPath ? await subPathIn(target, mount.imageSubPath, `${what}: image volume mounts[${index}] at "${mount.containerPath}"`) : target;
      mounts[index] = { ...mount, image: undefined, imageSubPath: '', hostPath };
      labels[`containerd.io/gc.ref.snapshot.${this.snapshotter}/image-volume-${index}`] = key;
    }
    return { mounts, labels };
  }

  /**
   * Unmounts container `record`'s image volumes and removes their snapshots and dir: every mount dir
   * found, and every image mount of its config. Idempotent.
   * @throws when a volume cannot be unmounted (the container's remove fails and can be retried)
   */
  async release(record: ContainerRecord, signal: AbortSignal): Promise<void> {
    const id = record.metadata.id;
    const fromConfig = (record.metadata.config?.mounts ?? []).flatMap((m, i) => (m.image ? [i] : []));
    const found = await this.mountDirs(id);
    if (fromConfig.length === 0 && found.length === 0) return;
    for (const index of new Set([...found, ...fromConfig])) {
      await unmount(this.runner, path.join(this.dir(id), String(index)), signal);
      await ignoreNotFound(this.containerd.snapshots.remove({ snapshotter: this.snapshotter, key: this.key(id, index) }, { signal }));
    }
    await this.removeDirs(id);
    this.log.debug({ container: id }, 'image volumes released');
  }

  /** Mounts missing volumes of known containers again and sweeps those of unknown ones. Never fails start-up. */
  async start(signal: AbortSignal): Promise<void> {
    const known = new Set<string>(this.store.list().map(r => r.metadata.id));
    for (const record of this.store.list()) {
      await this.remount(record, signal).catch(err => this.log.warn({ container: record.metadata.id, err }, 'mount image volumes again'));
    }
    await this.sweep(known, signal).catch(err => this.log.warn({ err }, 'sweep image volumes'));
  }

  async stop(): Promise<void> {}

  private key(id: string, index: number): string {
    return `crikit-image-volume-${id}-${index}`;
  }

  /**
   * Removes container `id`'s (unmounted) mount dirs and its dir with rmdir, which never descends into
   * what is still mounted there, as a recursive remove would.
   */
  private async removeDirs(id: string): Promise<void> {
    for (const index of await this.mountDirs(id)) await fs.rmdir(path.join(this.dir(id), String(index)));
    await fs.rmdir(this.dir(id)).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err; });
  }

  private async mountDirs(id: string): Promise<number[]> {
    const names = await fs.readdir(this.dir(id)).catch(() => [] as string[]);
    return names.filter(n => /^\d+$/.test(n)).map(Number);
  }

  private async remount(record: ContainerRecord, signal: AbortSignal): Promise<void> {
    const id = record.metadata.id;
    for (const [index, mount] of (record.metadata.config?.mounts ?? []).entries()) {
      if (!mount.image) continue;
      const target = path.join(this.dir(id), String(index));
      if (await isMountPoint(target)) continue;
      const key = this.key(id, index);
      const { mounts } = await this.containerd.snapshots.mounts({ snapshotter: this.snapshotter, key }, { signal });
      await fs.mkdir(target, { recursive: true, mode: 0o700 });
      await mountReadOnly(this.runner, mounts, target, signal);
      this.log.info({ container: id, target }, 'image volume mounted again');
    }
  }

  private async sweep(known: ReadonlySet<string>, signal: AbortSignal): Promise<void> {
    const root = path.join(this.paths.stateDir, 'image-volumes');
    const swept: string[] = [];
    for (const id of await fs.readdir(root).catch(() => [] as string[])) {
      if (known.has(id)) continue;
      for (const index of await this.mountDirs(id)) await unmount(this.runner, path.join(this.dir(id), String(index)), signal);
      await this.removeDirs(id);
      swept.push(this.dir(id));
    }
    const filters = [`labels."${imageVolumeLabel}"`];
    for await (const page of this.containerd.snapshots.list({ snapshotter: this.snapshotter, filters }, { signal })) {
      for (const info of page.info) {
        if (known.has(info.labels[imageVolumeLabel] ?? '')) continue;
        await ignoreNotFound(this.containerd.snapshots.remove({ snapshotter: this.snapshotter, key: info.name }, { signal }))
          .catch(err => this.log.warn({ snapshot: info.name, err }, 'remove image volume snapshot'));
        swept.push(info.name);
      }
    }
    if (swept.length > 0) this.log.info({ swept }, 'swept image volumes no container owns');
  }
}

/** `subPath` inside the mounted image at `root` (links resolved within it); it must be a directory. */
async function subPathIn(root: string, subPath: string, where: string): Promise<string> {
  const resolved = await resolveInRoot(root, subPath);
  const stat = resolved ? await fs.stat(resolved).catch(() => undefined) : undefined;
  if (!resolved || !stat) throw new InvalidArgumentError(`${where}: image_sub_path "${subPath}" does not exist in the image`);
  if (!stat.isDirectory()) throw new InvalidArgumentError(`${where}: image_sub_path "${subPath}" is not a directory`);
  return resolved;
}
