import fs from 'node:fs/promises';
import path from 'node:path';
import { inject, injectable } from 'inversify';
import type { types } from '@crikit/api';
import {
  ContainerdClient, deadline, ignoreNotFound, isFailedPrecondition, isNotFound, KeyedSingleFlight, Logger, PathsConfig, ProcessRunner, RuntimeEventBus,
  Snapshotter, StartOrder, UnavailableError, withLease, type PodUserNamespace, type RemappedSnapshotRequest,
  type RemappedSnapshots, type Startable,
} from '@crikit/core';
import { shiftOwnership } from './shift-ownership.js';

/** containerd's labels of a snapshot whose files are shifted for a user namespace (`snapshots.LabelSnapshotUIDMapping`). */
export const UID_MAPPING_LABEL = 'containerd.io/snapshot/uidmapping';
export const GID_MAPPING_LABEL = 'containerd.io/snapshot/gidmapping';
/** Marks the remapped copies crikit makes (and the view and work snapshots of a copy being made), so that `removeUnused` finds them (and nothing else). */
export const REMAPPED_LABEL = 'crikit.io/remapped-from';

/** How long making one remapped copy (mount, copy, shift, commit) may take: large images take long. */
const copyTimeoutMs = 10 * 60_000;
/** How often a prepare retries when the copy it found was removed before it could use it. */
const attempts = 3;

/** containerd's `<ctr id>:<host id>:<length>` form of the mapping labels. */
const mappingLabel = (r: { containerId: number; hostId: number; length: number }): string => `${r.containerId}:${r.hostId}:${r.length}`;

/**
 * The name of the committed remapped copy of image chain `parent` for `userns`: containerd's
 * `<parent>-<host uid>-<host gid>` (the length does not change the files: every owner is shifted).
 */
export function remappedName(parent: string, userns: PodUserNamespace): string {
  return `${parent}-${userns.uids.hostId}-${userns.gids.hostId}`;
}

/**
 * RemappedSnapshots on containerd's snapshot service, as containerd 1.7's `WithUserNSRemappedSnapshot`
 * does for runtimes without idmapped mounts: the copy is made on an empty active snapshot
 * (`<name>-remap`) from a read-only view of the image (`cp -a`, so hard links, modes, times and
 * xattrs stay), every owner shifted by the host offsets, then committed as `<name>`. containerd
 * shifts through an overlay mount instead; a plain copy keeps hard links as links and shifts each
 * inode exactly once. Everything is made under a lease, and a failure removes what it made.
 * A copy goes once no rootfs is prepared on it: after each container or sandbox removal (and once
 * at start-up, for copies a previous crikitd left), as containerd's GC would take it eventually.
 */
@injectable()
export class ContainerdRemappedSnapshots implements RemappedSnapshots, Startable {
  readonly startName = 'remapped snapshots';
  readonly startOrder = StartOrder.services;
  private readonly copies = new KeyedSingleFlight<string, void>();
  /** False once a sweep found no copy left and no prepare began since: removals then cost no call. */
  private maybeSome = true;
  /** Counts prepares, so a sweep knows whether one began while it ran. */
  private prepares = 0;

  /** The sweep under way or queued; sweeps run one at a time. */
  private sweeps: Promise<void> = Promise.resolve();
  private sweepQueued = false;
  private readonly onRemoved = (): void => { this.queueSweep(); };

  constructor(
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(Snapshotter) private readonly snapshotter: string,
    @inject(RuntimeEventBus) private readonly bus: RuntimeEventBus,
    @inject(PathsConfig) private readonly paths: PathsConfig,
    @inject(Logger) private readonly log: Logger,
    // mount, umount and cp run through it, not forked from crikitd itself.
    @inject(ProcessRunner) private readonly runner: ProcessRunner,
  ) {}

  /** Sweeps after every container and sandbox removal, and once now. */
  async start(): Promise<void> {
    this.bus.events.on('container:removed', this.onRemoved);
    this.bus.events.on('sandbox:removed', this.onRemoved);
    this.queueSweep();
  }

  async stop(): Promise<void> {
    this.bus.events.off('container:removed', this.onRemoved);
    this.bus.events.off('sandbox:removed', this.onRemoved);
    await this.sweeps;
  }

  /** Runs `removeUnused` after the current sweep; removals while one is queued share it. */
  private queueSweep(): void {
    if (this.sweepQueued) return;
    this.sweepQueued = true;
    this.sweeps = this.sweeps.then(() => {
      this.sweepQueued = false;
      return this.removeUnused(AbortSignal.timeout(60_000));
    });
  }

  async prepare(request: RemappedSnapshotRequest, signal: AbortSignal): Promise<types.Mount[]> {
    if (request.lease) return this.prepareUnder(request, request.lease, signal);
    return withLease(this.containerd, 'remap', this.log, signal, lease => this.prepareUnder(request, lease, signal));
  }

  private async prepareUnder(request: RemappedSnapshotRequest, lease: string, signal: AbortSignal): Promise<types.Mount[]> {
    const { key, parent, userns } = request;
    this.maybeSome = true;
    this.prepares++;
    const name = remappedName(parent, userns);
    const labels = { [UID_MAPPING_LABEL]: mappingLabel(userns.uids), [GID_MAPPING_LABEL]: mappingLabel(userns.gids) };
    for (let attempt = 1; ; attempt++) {
      await this.copies.do(name, () => this.ensureCopy(name, parent, userns, lease));
      try {
        const { mounts } = await this.containerd.snapshots.prepare({ snapshotter: this.snapshotter, key, parent: name, labels }, { signal, lease });
        return mounts;
      } catch (err) {
        // containerd 1.7 does the same: the copy went (removeUnused, GC) between the check and the prepare.
        if (!isNotFound(err) || attempt >= attempts) throw err;
        this.log.info({ snapshot: name, key }, 'remapped snapshot went before use; making it again');
      }
    }
  }

  /** Makes the committed copy `name` unless it exists. Shared by concurrent callers, so on its own deadline. */
  private async ensureCopy(name: string, parent: string, userns: PodUserNamespace, lease: string): Promise<void> {
    const present = await this.containerd.snapshots.stat({ snapshotter: this.snapshotter, key: name }).then(() => true, err => {
      if (isNotFound(err)) return false;
      throw err;
    });
    if (present) return;
    const limit = deadline([], copyTimeoutMs);
    const signal = limit.signal;
    const work = `${name}-remap`;
    const view = `${name}-view`;
    // Under crikit's state dir, where the image and the copy are mounted while the copy is made.
    const base = path.join(this.paths.stateDir, 'remap');
    await fs.mkdir(base, { recursive: true, mode: 0o700 });
    const dir = await fs.mkdtemp(path.join(base, 'copy-'));
    const [source, target] = [path.join(dir, 'image'), path.join(dir, 'copy')];
    const started = Date.now();
    try {
      const snapshots = this.containerd.snapshots;
      const remove = (k: string) => ignoreNotFound(snapshots.remove({ snapshotter: this.snapshotter, key: k }, { signal: AbortSignal.timeout(30_000) }));
      // Left by a crikitd that died mid-copy (its lease kept them for an hour).
      await remove(view);
      await remove(work);
      try {
        // Labelled too, so that a sweep finds what a crikitd killed mid-copy left (see removeUnused).
        const image = await snapshots.view({ snapshotter: this.snapshotter, key: view, parent, labels: { [REMAPPED_LABEL]: parent } }, { signal, lease });
        const copy = await snapshots.prepare({ snapshotter: this.snapshotter, key: work, parent: '', labels: { [REMAPPED_LABEL]: parent } }, { signal, lease });
        await fs.mkdir(source);
        await fs.mkdir(target);
        await mountAt(this.runner, image.mounts, source, ['ro', 'nodev', 'nosuid'], signal);
        try {
          await mountAt(this.runner, copy.mounts, target, [], signal);
          try {
            await copyTree(this.runner, source, target, signal);
            const shifted = await shiftOwnership(target, userns.uids.hostId, userns.gids.hostId, signal);
            this.log.info({ snapshot: name, inodes: shifted.inodes, ms: Date.now() - started }, 'remapped image snapshot');
          } finally {
            await unmount(this.runner, target);
          }
        } finally {
          await unmount(this.runner, source);
        }
        await snapshots.commit({ snapshotter: this.snapshotter, name, key: work, labels: { [REMAPPED_LABEL]: parent } }, { signal, lease });
      } catch (err) {
        await remove(work);
        throw err;
      } finally {
        await remove(view);
      }
    } catch (err) {
      if (isNotFound(err)) throw err;
      throw new UnavailableError(`remap snapshot ${parent} for user namespace ${userns.uids.hostId}/${userns.gids.hostId}: ${(err as Error).message}`, { cause: err });
    } finally {
      limit.dispose();
      await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  async removeUnused(signal: AbortSignal): Promise<void> {
    if (!this.maybeSome) return;
    const prepares = this.prepares;
    try {
      const names: string[] = [];
      for await (const page of this.containerd.snapshots.list({ snapshotter: this.snapshotter, filters: [`labels."${REMAPPED_LABEL}"`] }, { signal })) {
        for (const info of page.info) names.push(info.name);
      }
      let left = 0;
      for (const name of names) {
        if (this.copies.size > 0) return; // a copy being made or used right now: the next call sweeps
        // containerd refuses to remove a snapshot that has children: a copy in use stays.
        await this.containerd.snapshots.remove({ snapshotter: this.snapshotter, key: name }, { signal }).then(
          () => this.log.info({ snapshot: name }, 'removed unused remapped snapshot'),
          err => { if (!isNotFound(err) && !isFailedPrecondition(err)) throw err; left++; });
      }
      if (left === 0 && this.prepares === prepares) this.maybeSome = false;
    } catch (err) {
      this.log.warn({ err }, 'remove unused remapped snapshots');
    }
  }
}

/** Runs a program to its end; a non-zero exit is an UnavailableError carrying its stderr. */
async function runTool(runner: ProcessRunner, file: string, args: string[], doing: string, signal: AbortSignal, timeoutMs = 60_000): Promise<void> {
  const r = await runner.run({ file, args, timeoutMs, doing }, signal);
  if (r.code !== 0) throw new UnavailableError(`${doing}: ${r.stderr.trim() || `${file} ended with ${r.code ?? r.signal}`}`);
}

async function mountAt(runner: ProcessRunner, mounts: readonly types.Mount[], target: string, extra: readonly string[], signal: AbortSignal): Promise<void> {
  if (mounts.length !== 1) throw new UnavailableError(`expected one mount, got ${mounts.length}`);
  const m = mounts[0]!;
  const options = [...m.options.filter(o => !(extra.includes('ro') && o === 'rw')), ...extra];
  const args = m.type === 'bind'
    ? ['--bind', ...(options.length ? ['-o', options.join(',')] : []), m.source, target]
    : ['-t', m.type, ...(options.length ? ['-o', options.join(',')] : []), m.source, target];
  await runTool(runner, 'mount', args, `mount ${args.join(' ')}`, signal);
}

/** Unmounts `target`, lazily if it is busy. Never throws: the caller is cleaning up. */
async function unmount(runner: ProcessRunner, target: string): Promise<void> {
  const signal = AbortSignal.timeout(60_000);
  await runTool(runner, 'umount', [target], `unmount ${target}`, signal)
    .catch(() => runTool(runner, 'umount', ['--lazy', target], `unmount ${target}`, signal)).catch(() => undefined);
}

/** `cp -a`: hard links, modes, owners, times, xattrs and special files as they are. */
async function copyTree(runner: ProcessRunner, source: string, target: string, signal: AbortSignal): Promise<void> {
  // The copy's own deadline (copyTimeoutMs) bounds it through `signal`.
  await runTool(runner, 'cp', ['-a', '--', `${source}/.`, `${target}/`], 'copy the image\'s files', signal, copyTimeoutMs);
}
