import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, pack as tarPack } from 'tar-stream';
import { InvalidArgumentError } from '@crikit/core';

/**
 * The files of a container checkpoint archive, as CRI-O and containerd 2.x write them for the
 * kubelet's checkpoint API and as checkpointctl reads them
 * (https://github.com/checkpoint-restore/checkpointctl/blob/main/lib/metadata.go).
 */
export const CheckpointFiles = {
  /** The container's identity and base image (checkpointctl's ContainerConfig), JSON. */
  config: 'config.dump',
  /** The container's OCI runtime spec, JSON. */
  spec: 'spec.dump',
  /** The container's CRI ContainerStatus, JSON with the protobuf field names. */
  status: 'status.dump',
  /** criu's image files, one directory. */
  checkpointDir: 'checkpoint',
  /** The container's changes to its image's rootfs, an uncompressed OCI layer tar. */
  rootfsDiff: 'rootfs-diff.tar',
  /** Files the container deleted from its image's rootfs, a JSON list (CRI-O and Podman write it; containerd uses whiteouts). */
  deletedFiles: 'deleted.files',
  /** criu's statistics and log of the dump. */
  statsDump: 'stats-dump',
  dumpLog: 'dump.log',
  /** The container's CRI log at the time of the checkpoint. */
  containerLog: 'container.log',
} as const;

/** `config.dump`: checkpointctl's ContainerConfig (Go's JSON names). */
export interface CheckpointConfigDump {
  readonly id: string;
  readonly name: string;
  readonly rootfsImage?: string;
  readonly rootfsImageRef?: string;
  readonly rootfsImageName?: string;
  readonly runtime?: string;
  readonly createdTime: string;
  readonly checkpointedTime: string;
  readonly restoredTime?: string;
  readonly restored: boolean;
}

/** One member of an archive being written: bytes, a file to stream in, or a stream of known size. */
export type ArchiveEntry =
  | { readonly name: string; readonly data: Buffer }
  | { readonly name: string; readonly file: string; readonly size: number }
  | { readonly name: string; readonly size: number; readonly open: () => Readable | AsyncIterable<Uint8Array> }
  | { readonly name: string; readonly directory: true };

/**
 * Writes a tar archive at `target`: first beside it under a temporary name, then renamed, so a
 * reader never sees half an archive and a failure leaves nothing at `target`.
 */
export async function writeArchive(target: string, entries: readonly ArchiveEntry[], signal: AbortSignal): Promise<void> {
  const temporary = `${target}.crikit-${process.pid}-${Date.now()}.partial`;
  const pack = tarPack();
  const written = pipeline(pack, createWriteStream(temporary, { mode: 0o600 }), { signal });
  try {
    const mtime = new Date();
    for (const e of entries) {
      signal.throwIfAborted();
      if ('directory' in e) {
        await new Promise<void>((resolve, reject) => pack.entry({ name: e.name, type: 'directory', mode: 0o700, mtime }, err => (err ? reject(err) : resolve())));
      } else if ('data' in e) {
        await new Promise<void>((resolve, reject) => pack.entry({ name: e.name, size: e.data.length, mode: 0o600, mtime }, e.data, err => (err ? reject(err) : resolve())));
      } else {
        const entry = pack.entry({ name: e.name, size: e.size, mode: 0o600, mtime });
        await pipeline('file' in e ? createReadStream(e.file) : e.open(), entry, { signal });
      }
    }
    pack.finalize();
    await written;
    await fs.rename(temporary, target);
  } catch (err) {
    pack.destroy();
    await written.catch(() => undefined);
    await fs.rm(temporary, { force: true });
    throw err;
  }
}

/** The entries of every regular file directly in `dir`, named `<prefix>/<file>`, with the directory itself first. */
export async function directoryEntries(dir: string, prefix: string): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [{ name: `${prefix}/`, directory: true }];
  for (const name of (await fs.readdir(dir)).sort()) {
    const file = path.join(dir, name);
    const st = await fs.lstat(file);
    if (st.isFile()) entries.push({ name: `${prefix}/${name}`, file, size: st.size });
  }
  return entries;
}

/** The most a metadata file (`config.dump`, `spec.dump`, `status.dump`) may hold. */
const metadataMaxBytes = 4 * 1024 * 1024;

/** What one pass over a checkpoint archive does with each member; a member not handled is skipped. */
export interface ArchiveVisitor {
  /** Called for each regular file; return true once its data was consumed from `body`. */
  file(name: string, size: number, body: Readable): Promise<boolean>;
}

/**
 * Reads the archive at `archive` once, in order, handing each regular file to `visitor`.
 * Member names are normalised (`./x` → `x`); names that climb out (`..`) or are absolute are refused.
 * @throws InvalidArgumentError when the file is not a tar archive or holds such a name
 */
export async function readArchive(archive: string, visitor: ArchiveVisitor, signal: AbortSignal): Promise<void> {
  const extract = tarExtract();
  const source = pipeline(createReadStream(archive), extract, { signal }).catch(err => {
    throw new InvalidArgumentError(`checkpoint archive ${archive}: ${(err as Error).message}`, { cause: err });
  });
  try {
    for await (const entry of extract) {
      const name = memberName(archive, entry.header.name);
      const used = entry.header.type === 'file' && name !== '' ? await visitor.file(name, entry.header.size ?? 0, entry as unknown as Readable) : false;
      if (!used) entry.resume();
    }
    await source;
  } catch (err) {
    extract.destroy();
    await source.catch(() => undefined);
    throw err instanceof InvalidArgumentError ? err : new InvalidArgumentError(`checkpoint archive ${archive}: ${(err as Error).message}`, { cause: err });
  }
}

/** A member's name without `./`; refuses absolute names and any `..` component. */
export function memberName(archive: string, raw: string): string {
  const name = raw.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (name.startsWith('/') || name.split('/').includes('..')) throw new InvalidArgumentError(`checkpoint archive ${archive}: member "${raw}" leaves the archive`);
  return name;
}

/** Reads a JSON metadata member of at most 4 MiB; `source` names the checkpoint in messages. */
export async function readJsonMember(source: string, name: string, size: number, body: Readable): Promise<unknown> {
  if (size > metadataMaxBytes) throw new InvalidArgumentError(`${source}: ${name} is ${size} bytes, more than ${metadataMaxBytes}`);
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch (err) {
    throw new InvalidArgumentError(`${source}: ${name} is not JSON: ${(err as Error).message}`, { cause: err });
  }
}
