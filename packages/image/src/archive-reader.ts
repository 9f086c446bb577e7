import fs from 'node:fs';
import type { Readable } from 'node:stream';
// tar-stream's entries are streamx Readables: async-iterable and pipeable like node's, typed apart.
import tar from 'tar-stream';
import { abortError, CriError, InvalidArgumentError } from '@crikit/core';

/** A file entry met while walking an archive: its normalised path, size and a stream of its bytes. */
export interface ArchiveEntry {
  readonly path: string;
  readonly size: number;
  readonly stream: Readable;
}

/**
 * Walks the regular files of a tar archive in order, handing each to `visit`, which must consume
 * or drain the stream before it resolves. Paths lose a leading `./`.
 * @throws InvalidArgumentError naming the file when it is not a well-formed tar (e.g. cut short)
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
  } catch (err) {
    throw malformed(file, err);
  } finally {
    signal.removeEventListener('abort', onAbort);
    input.destroy();
  }
}

// tar-stream reports a bad or truncated archive with a plain Error: that is bad input, not a bug. Our own
// errors, the abort, and system errors (which carry a `code`, e.g. EIO) keep their kind.
function malformed(file: string, err: unknown): unknown {
  if (err instanceof CriError || !(err instanceof Error) || (err as NodeJS.ErrnoException).code !== undefined) return err;
  return new InvalidArgumentError(`read archive ${file}: ${err.message}`, { cause: err });
}

/** Reads a whole entry into memory. */
export async function readEntry(entry: ArchiveEntry): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of entry.stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}
