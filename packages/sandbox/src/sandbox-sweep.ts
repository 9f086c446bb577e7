import fs from 'node:fs/promises';
import path from 'node:path';
import { inject, injectable } from 'inversify';
import {
  Logger, NetworkNamespaces, PathsConfig, PodNetwork, SandboxStore, sandboxPaths, StartOrder, type SandboxId, type Startable,
} from '@crikit/core';
import { removeSandboxFiles, removeSandboxState } from './sandbox-files.js';

/** How long the sweep may take at start-up. */
const sweepTimeoutMs = 120_000;

/**
 * Sweeps at start-up what belongs to no pod: what a RunPodSandbox or RemovePodSandbox left when crikit
 * was killed before it recorded the pod in containerd or after it deleted it. In order: the network's
 * leftovers (CNI DEL of cached attachments, intents included, then CNI GC), pinned network namespaces,
 * sandbox state dirs (the shm mount) and sandbox file dirs. Runs after sandbox recovery and once the
 * network config is loaded, before crikit serves, so no RunPodSandbox can be under way.
 */
@injectable()
export class SandboxSweep implements Startable {
  readonly startName = 'sandbox sweep';
  readonly startOrder = StartOrder.network + 1;

  constructor(
    @inject(SandboxStore) private readonly store: SandboxStore,
    @inject(PodNetwork) private readonly network: PodNetwork,
    @inject(NetworkNamespaces) private readonly netns: NetworkNamespaces,
    @inject(PathsConfig) private readonly paths: PathsConfig,
    @inject(Logger) private readonly log: Logger,
  ) {}

  /** Never fails start-up: what cannot be swept now is logged and tried again at the next start. */
  async start(): Promise<void> {
    const signal = AbortSignal.timeout(sweepTimeoutMs);
    const pods = this.store.list();
    const ids = new Set<string>(pods.map(p => p.metadata.id));
    const pins = new Set(pods.map(p => p.metadata.netnsPath).filter((p): p is string => !!p));
    const swept: Record<string, string[]> = {};
    const step = async (what: string, fn: () => Promise<void>): Promise<void> => {
      await fn().catch(err => this.log.warn({ err }, `sweep ${what}`));
    };
    await step('pod network', async () => {
      await this.network.collectGarbage?.(pods.map(p => p.metadata.id as SandboxId), signal);
    });
    await step('network namespaces', async () => {
      for (const pin of await this.netns.list()) {
        // A pod recovered as unknown may have lost its metadata, never its id.
        if (pins.has(pin) || ids.has(path.basename(pin))) continue;
        await this.netns.remove(pin, signal);
        (swept.netns ??= []).push(path.basename(pin));
      }
    });
    await step('sandbox state', async () => {
      for (const id of await orphans(path.join(this.paths.stateDir, 'sandboxes'), ids)) {
        await removeSandboxState(sandboxPaths(this.paths, id));
        (swept.state ??= []).push(id);
      }
    });
    await step('sandbox files', async () => {
      for (const id of await orphans(path.join(this.paths.rootDir, 'sandboxes'), ids)) {
        await removeSandboxFiles(sandboxPaths(this.paths, id));
        (swept.files ??= []).push(id);
      }
    });
    if (Object.keys(swept).length > 0) this.log.info({ swept }, 'swept what no pod owns');
  }

  async stop(): Promise<void> {}
}

/** The entries of `dir` that name no pod in `ids` (none when `dir` is missing). */
async function orphans(dir: string, ids: ReadonlySet<string>): Promise<string[]> {
  const names = await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  return names.filter(n => !ids.has(n));
}
