import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { inject, injectable } from 'inversify';
import { packAny, runcOptions } from '@crikit/api';
import {
  clampTimerMs, ContainerdClient, ContainerStore, deadline, FailedPreconditionError, InvalidArgumentError, Logger,
  PathsConfig, Snapshotter, toCriContainerState, withLease, type ContainerId, type ContainerRecord,
} from '@crikit/core';
import { CheckpointFiles, directoryEntries, writeArchive, type ArchiveEntry, type CheckpointConfigDump } from './checkpoint-archive.js';
import { CriuProbe } from './criu-probe.js';

/** How long a checkpoint may take when the request gives no timeout. */
const defaultTimeoutMs = 10 * 60_000;
/** The layer media type of `rootfs-diff.tar`: uncompressed, as CRI-O writes it. */
const layerTarMediaType = 'application/vnd.oci.image.layer.v1.tar';

/**
 * CheckpointContainer: criu images of a running container through containerd's task Checkpoint
 * (runc checkpoint --leave-running), its rootfs changes through containerd's diff service, and its
 * spec, status and identity, written as one tar archive in the format CRI-O and containerd 2.x
 * produce for the kubelet's checkpoint API. The container keeps running.
 */
@injectable()
export class ContainerCheckpointer {
  constructor(
    @inject(ContainerStore) private readonly store: ContainerStore,
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(CriuProbe) private readonly criu: CriuProbe,
    @inject(PathsConfig) private readonly paths: PathsConfig,
    @inject(Snapshotter) private readonly snapshotter: string,
    @inject(Logger) private readonly log: Logger,
  ) {}

  /**
   * Checkpoints container `id` into the archive `location` (an absolute file path; its directory
   * must exist). `timeoutSeconds` 0 means ten minutes.
   * @throws NotFoundError for an unknown container; FailedPreconditionError when it is not running or
   *   criu cannot work on this host; InvalidArgumentError for a bad location
   */
  async checkpoint(id: ContainerId, location: string, timeoutSeconds: number, signal: AbortSignal): Promise<void> {
    const record = this.store.get(id);
    const what = `checkpoint container ${record.metadata.name}`;
    // CRI: only a running container can be checkpointed (as containerd's and CRI-O's).
    if (record.status.state !== 'running') throw new FailedPreconditionError(`${what}: it is ${record.status.state}; only running containers can be checkpointed`);
    await checkLocation(location, what);
    await this.criu.require(what);
    const limit = deadline(signal, timeoutSeconds > 0 ? clampTimerMs(timeoutSeconds * 1000) : defaultTimeoutMs);
    const staging = path.join(this.paths.rootDir, 'checkpoints', `.staging-${id}-${randomBytes(4).toString('hex')}`);
    try {
      await fs.mkdir(path.join(staging, 'images'), { recursive: true, mode: 0o700 });
      await fs.mkdir(path.join(staging, 'work'), { mode: 0o700 });
      const started = Date.now();
      const { rootfsDiff, specJson } = await this.dump(record, staging, limit.signal);
      await writeArchive(location, await this.entries(record, staging, rootfsDiff, specJson), limit.signal);
      this.log.info({ container: id, location, ms: Date.now() - started }, 'container checkpointed');
    } finally {
      limit.dispose();
      await fs.rm(staging, { recursive: true, force: true }).catch(err => this.log.warn({ container: id, err }, 'remove checkpoint staging dir'));
    }
  }

  /**
   * With the task paused (as containerd's client does, so the files and the processes agree):
   * criu's images into `staging/images`, the rootfs changes into `staging/rootfs-diff.tar`.
   */
  private async dump(record: ContainerRecord, staging: string, signal: AbortSignal): Promise<{ rootfsDiff: string; specJson: Buffer }> {
    const id = record.metadata.id;
    const rootfsDiff = path.join(staging, CheckpointFiles.rootfsDiff);
    const { container } = await this.containerd.containers.get({ id }, { signal });
    const specJson = Buffer.from(container?.spec?.value ?? Buffer.from('{}'));
    await this.containerd.tasks.pause({ containerId: id }, { signal });
    try {
      // CRI: the kubelet's checkpoint leaves the container running (exit: false), and the archive
      // carries the images itself, so criu writes them straight into our directory.
      const options = runcOptions.CheckpointOptions.fromPartial({
        exit: false, imagePath: path.join(staging, 'images'), workPath: path.join(staging, 'work'),
      });
      await this.containerd.tasks.checkpoint({ containerId: id, options: packAny('containerd.runc.v1.CheckpointOptions', runcOptions.CheckpointOptions, options) }, { signal });
      await this.diffRootfs(id, rootfsDiff, signal);
    } finally {
      await this.containerd.tasks.resume({ containerId: id }, { signal: AbortSignal.timeout(30_000) })
        .catch(err => this.log.warn({ container: id, err }, 'resume container after checkpoint'));
    }
    return { rootfsDiff, specJson };
  }

  /** The container's snapshot against its image's, as an OCI layer tar made by containerd's diff service. */
  private async diffRootfs(id: ContainerId, target: string, signal: AbortSignal): Promise<void> {
    const { info } = await this.containerd.snapshots.stat({ snapshotter: this.snapshotter, key: id }, { signal });
    await withLease(this.containerd, 'checkpoint', this.log, signal, async lease => {
      const viewKey = `crikit-checkpoint-${id}-${randomBytes(4).toString('hex')}`;
      const { mounts: left } = info?.parent
        ? await this.containerd.snapshots.view({ snapshotter: this.snapshotter, key: viewKey, parent: info.parent }, { signal, lease })
        : { mounts: [] };
      try {
        const { mounts: right } = await this.containerd.snapshots.mounts({ snapshotter: this.snapshotter, key: id }, { signal });
        const { diff } = await this.containerd.diff.diff({ left, right, mediaType: layerTarMediaType, ref: viewKey }, { signal, lease });
        if (!diff) throw new Error(`diff of the rootfs of container ${id}: containerd returned no descriptor`);
        const chunks = this.containerd.content.read({ digest: diff.digest }, { signal });
        await pipeline(async function* () { for await (const r of chunks) yield r.data; }, createWriteStream(target, { mode: 0o600 }), { signal });
      } finally {
        if (info?.parent) await this.containerd.snapshots.remove({ snapshotter: this.snapshotter, key: viewKey }, { signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
      }
    });
  }

  /** The archive's members, in the order CRI-O and containerd write them (metadata first). */
  private async entries(record: ContainerRecord, staging: string, rootfsDiff: string, specJson: Buffer): Promise<ArchiveEntry[]> {
    const m = record.metadata;
    const config: CheckpointConfigDump = {
      id: m.id, name: m.name,
      rootfsImage: m.config.image?.image ?? '', rootfsImageRef: m.imageRef, rootfsImageName: m.config.image?.image ?? '',
      runtime: (await this.runtimeName(m.id)) ?? '',
      createdTime: nsToIso(m.createdAt), checkpointedTime: new Date().toISOString(), restored: false,
    };
    const entries: ArchiveEntry[] = [
      { name: CheckpointFiles.config, data: Buffer.from(JSON.stringify(config)) },
      { name: CheckpointFiles.spec, data: specJson },
      { name: CheckpointFiles.status, data: Buffer.from(statusDump(record)) },
      ...await directoryEntries(path.join(staging, 'images'), CheckpointFiles.checkpointDir),
      { name: CheckpointFiles.rootfsDiff, file: rootfsDiff, size: (await fs.stat(rootfsDiff)).size },
    ];
    // criu's statistics and log (checkpointctl shows them): in the work dir or beside the images.
    for (const name of [CheckpointFiles.statsDump, CheckpointFiles.dumpLog]) {
      for (const dir of ['work', 'images']) {
        const file = path.join(staging, dir, name);
        const st = await fs.stat(file).catch(() => undefined);
        if (st?.isFile()) { entries.push({ name, file, size: st.size }); break; }
      }
    }
    if (m.logPath) {
      const st = await fs.stat(m.logPath).catch(() => undefined);
      if (st?.isFile()) entries.push({ name: CheckpointFiles.containerLog, data: await fs.readFile(m.logPath) });
    }
    return entries;
  }

  private async runtimeName(id: ContainerId): Promise<string | undefined> {
    const { container } = await this.containerd.containers.get({ id }, { signal: AbortSignal.timeout(30_000) });
    return container?.runtime?.name;
  }
}

/**
 * CRI: `location` is where the archive goes; it must be an absolute path in an existing directory,
 * and not a directory itself.
 */
async function checkLocation(location: string, what: string): Promise<void> {
  if (!location) throw new InvalidArgumentError(`${what}: location is required`);
  if (!path.isAbsolute(location)) throw new InvalidArgumentError(`${what}: location "${location}" is not an absolute path`);
  const dir = await fs.stat(path.dirname(location)).catch(() => undefined);
  if (!dir?.isDirectory()) throw new InvalidArgumentError(`${what}: location "${location}": directory ${path.dirname(location)} does not exist`);
  const existing = await fs.stat(location).catch(() => undefined);
  if (existing && !existing.isFile()) throw new InvalidArgumentError(`${what}: location "${location}" exists and is not a regular file`);
}

/** `status.dump`: the CRI ContainerStatus with Go's JSON names (snake_case; int64 as numbers). */
export function statusDump(record: ContainerRecord): string {
  const { metadata: m, status: s } = record;
  const value = {
    id: m.id, metadata: m.config.metadata ?? {}, state: toCriContainerState(s.state),
    created_at: m.createdAt, started_at: s.startedAt, finished_at: s.finishedAt, exit_code: s.exitCode,
    image: { image: m.config.image?.image ?? '', user_specified_image: m.config.image?.userSpecifiedImage ?? '' },
    image_ref: m.imageRef, image_id: m.imageId, reason: s.reason, message: s.message,
    labels: m.config.labels, annotations: m.config.annotations, log_path: m.logPath,
  };
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `\u0000bigint:${v}` : v))
    .replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}

function nsToIso(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}
