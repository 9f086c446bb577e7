import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { readArchive, type ArchiveVisitor } from './checkpoint-archive.js';

/**
 * Where a checkpoint's files are read from: an archive file (CheckpointContainer's output), or a
 * directory (the mounted rootfs of a checkpoint image, whose one layer holds the archive's files).
 */
export interface CheckpointSource {
  /** How messages name it: `checkpoint archive <path>` or `checkpoint image <ref>`. */
  readonly name: string;
  /** Hands each regular file to `visitor`, named as in an archive (`config.dump`, `checkpoint/pages-1.img`). */
  visit(visitor: ArchiveVisitor, signal: AbortSignal): Promise<void>;
}

/** The archive file at `file`. */
export function archiveSource(file: string): CheckpointSource {
  return { name: `checkpoint archive ${file}`, visit: (visitor, signal) => readArchive(file, visitor, signal) };
}

/**
 * The files in `dir` and one level below it (criu's images are in `checkpoint/`). Links are never
 * followed: only regular files and directories are read.
 */
export function directorySource(dir: string, name: string): CheckpointSource {
  return {
    name,
    visit: async (visitor, signal) => {
      const walk = async (rel: string, depth: number): Promise<void> => {
        for (const entry of (await fs.readdir(path.join(dir, rel), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
          signal.throwIfAborted();
          const member = rel ? `${rel}/${entry.name}` : entry.name;
          if (entry.isDirectory() && depth === 0) await walk(member, 1);
          if (!entry.isFile()) continue;
          const file = path.join(dir, member);
          const body = createReadStream(file);
          if (!(await visitor.file(member, (await fs.lstat(file)).size, body))) body.destroy();
        }
      };
      await walk('', 0);
    },
  };
}
