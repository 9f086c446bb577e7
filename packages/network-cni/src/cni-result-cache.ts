import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { inject, injectable } from 'inversify';
import { z } from 'zod';
import { Logger, PathsConfig, UnavailableError } from '@crikit/core';

const cachedEntrySchema = z.object({
  version: z.literal(1),
  /** The network exactly as ADD ran it, so DEL and CHECK use it even after the conf dir changed. */
  network: z.object({
    name: z.string().min(1),
    cniVersion: z.string(),
    plugins: z.array(z.record(z.string(), z.unknown())).min(1),
    raw: z.record(z.string(), z.unknown()).optional(),
  }),
  containerId: z.string().min(1),
  ifName: z.string().min(1),
  netns: z.string(),
  /** CNI_ARGS and the capability args given at ADD; DEL passes the same. */
  args: z.string(),
  capabilityArgs: z.record(z.string(), z.unknown()),
  /** The result of the last plugin of the ADD: DEL's and CHECK's prevResult. Absent while the ADD runs (the intent). */
  result: z.unknown().optional(),
  createdAt: z.string(),
});

/** What the cache keeps per attachment (network + container id + ifname). */
export type CachedAttachment = z.infer<typeof cachedEntrySchema>;

/**
 * The CNI result cache on disk under `<rootDir>/cni/results/`, one JSON file per attachment named
 * `<network>-<containerId>-<ifName>` as libcni names them. It survives crikit restarts, so DEL runs
 * with the config and result of the ADD. Writes are atomic (temp file + rename).
 */
@injectable()
export class CniResultCache {
  /** The directory holding the entries. */
  readonly dir: string;

  constructor(@inject(PathsConfig) paths: PathsConfig, @inject(Logger) private readonly log: Logger) {
    this.dir = path.join(paths.rootDir, 'cni', 'results');
  }

  /**
   * Stores (or replaces) the entry of an attachment.
   * @throws UnavailableError when the file cannot be written
   */
  async put(entry: Omit<CachedAttachment, 'version' | 'createdAt'>): Promise<void> {
    const full: CachedAttachment = { version: 1, ...entry, createdAt: new Date().toISOString() };
    const file = this.file(entry.network.name, entry.containerId, entry.ifName);
    // The temp name starts with a dot so `find` and `list` never read a half-written entry.
    const tmp = path.join(this.dir, `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
      await fs.writeFile(tmp, JSON.stringify(full), { mode: 0o600 });
      await fs.rename(tmp, file);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => {});
      throw new UnavailableError(`cache cni result of ${entry.containerId} on cni network "${entry.network.name}": ${(err as Error).message}`, { cause: err });
    }
  }

  /** The entry of one attachment, or undefined when there is none or it does not decode (logged). */
  async get(network: string, containerId: string, ifName: string): Promise<CachedAttachment | undefined> {
    return this.read(this.file(network, containerId, ifName));
  }

  /** The entries of a container's interface `ifName` on any network, oldest first. */
  async find(containerId: string, ifName: string): Promise<CachedAttachment[]> {
    const suffix = `-${encode(containerId)}-${encode(ifName)}`;
    const entries = await this.readAll(name => name.endsWith(suffix));
    return entries.filter(e => e.containerId === containerId && e.ifName === ifName);
  }

  /** Every entry, oldest first (for GC of attachments whose pods are gone). */
  async list(): Promise<CachedAttachment[]> {
    return this.readAll(() => true);
  }

  /**
   * Forgets an attachment. Idempotent: a missing entry resolves.
   * @throws UnavailableError when the file exists but cannot be removed
   */
  async delete(network: string, containerId: string, ifName: string): Promise<void> {
    try {
      await fs.rm(this.file(network, containerId, ifName), { force: true });
    } catch (err) {
      throw new UnavailableError(`forget cni result of ${containerId} on cni network "${network}": ${(err as Error).message}`, { cause: err });
    }
  }

  private file(network: string, containerId: string, ifName: string): string {
    return path.join(this.dir, `${encode(network)}-${encode(containerId)}-${encode(ifName)}`);
  }

  private async readAll(match: (name: string) => boolean): Promise<CachedAttachment[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new UnavailableError(`read cni result cache ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
    const entries: CachedAttachment[] = [];
    for (const name of names) {
      if (name.startsWith('.') || !match(name)) continue;
      const entry = await this.read(path.join(this.dir, name));
      if (entry) entries.push(entry);
    }
    return entries.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  private async read(file: string): Promise<CachedAttachment | undefined> {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new UnavailableError(`read cni result ${file}: ${(err as Error).message}`, { cause: err });
    }
    try {
      return cachedEntrySchema.parse(JSON.parse(text));
    } catch (err) {
      // A broken entry is ignored, not deleted: DEL then falls back to the current config.
      this.log.warn({ file, err }, 'ignoring undecodable cni result cache entry');
      return undefined;
    }
  }
}

/** Keeps a name component a single path segment (network names are plain in practice). */
function encode(part: string): string {
  return part.replace(/[/%]/g, c => encodeURIComponent(c));
}
