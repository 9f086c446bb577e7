import fs from 'node:fs';
import type { Readable } from 'node:stream';
// tar-stream's entries are streamx Readables: async-iterable and pipeable like node's, typed apart.
import tar from 'tar-stream';
import { abortError } from '@crikit/core';

/** A file entry met while walking an archive: its normalised path, size and a stream of its bytes. */
export interface ArchiveEntry {
  readonly path: string;
  readonly size: number;
  readonly stream: Readable;
}

/**
 * Walks the regular files of a tar archive in order, handing each to `visit`, which must consume
 * or drain the stream before it resolves. Paths lose a leading `./`.
 */
export async function walkArchive(file: string, signal: AbortSignal, visit: (entry: ArchiveEntry) => Promise<void>): Promise<void> {
  const extract = tar.extract();
  const input = fs.createReadStream(file);
  const onAbort = (): void => { input.destroy(abortError(signal, `read archive ${file}`)); };
  signal.addEventListener('abort', onAbort, { once: true });
  input.on('error', err => extract.destroy(err));
  input.pipe(extract);
  try {
    for await (const entry of extract) {
      const path = entry.header.name.replace(/^\.\//, '');
      if (entry.header.type === 'file') await visit({ path, size: entry.header.size ?? 0, stream: entry as unknown as Readable });
      entry.resume();
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    input.destroy();
  }
}

/** Reads a whole entry into memory. */
export async function readEntry(entry: ArchiveEntry): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of entry.stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}
