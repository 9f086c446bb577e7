/**
 * Tar archives for image layers and image archives, written with `tar-stream` (ustar headers; a name
 * longer than 100 bytes goes into the ustar prefix field when it splits at a `/`, otherwise into a PAX
 * header, as does a link target longer than 100 bytes). Times default to 0, so the same entries always
 * give the same bytes.
 */
import { pack as tarPack, type Header, type Pack } from 'tar-stream';

/** A header as tar-stream's pack takes it: the name, and whatever else is set. */
type Headers = Partial<Header> & Pick<Header, 'name'>;

/** Fields shared by every kind of tar entry. */
interface TarEntryBase {
  /** Path inside the archive; a leading `/` or `./` is dropped. */
  readonly path: string;
  /** Permission bits, including setuid/setgid/sticky (e.g. `0o1777`). */
  readonly mode?: number;
  /** Owner ids, at most 0o777777 (what a ustar field holds). */
  readonly uid?: number;
  readonly gid?: number;
  /** Owner names, at most 32 bytes. */
  readonly uname?: string;
  readonly gname?: string;
  /** Seconds since the epoch; 0 by default for reproducible layers. */
  readonly mtime?: number;
}

/** A regular file; `data` given as a string is written as UTF-8. */
export interface TarFileEntry extends TarEntryBase { readonly type: 'file'; readonly data: Buffer | string }
/** A regular file of `size` bytes whose content arrives in chunks (large files, never held whole). */
export interface TarStreamedFileEntry extends TarEntryBase {
  readonly type: 'streamed-file';
  readonly size: number;
  /** Exactly `size` bytes in all; the archive fails otherwise. */
  readonly content: AsyncIterable<Buffer> | Iterable<Buffer>;
}
/** A directory. */
export interface TarDirectoryEntry extends TarEntryBase { readonly type: 'directory' }
/** A symbolic link to `target`, stored as given (relative or absolute). */
export interface TarSymlinkEntry extends TarEntryBase { readonly type: 'symlink'; readonly target: string }
/** A hard link to `target`, a file written earlier in the same archive. */
export interface TarHardlinkEntry extends TarEntryBase { readonly type: 'hardlink'; readonly target: string }

/** One entry to write into a tar archive. */
export type TarEntry = TarFileEntry | TarStreamedFileEntry | TarDirectoryEntry | TarSymlinkEntry | TarHardlinkEntry;

const DEFAULT_MODE = { 'file': 0o644, 'streamed-file': 0o644, 'hardlink': 0o644, 'symlink': 0o777, 'directory': 0o755 } as const;
const MAX_ID = 0o777777;

/** Strips a leading `/` or `./` so that archives hold relative paths, as OCI layers require. */
export function normalizeTarPath(path: string): string {
  let p = path.replace(/^(\.\/|\/)+/, '');
  p = p.replace(/\/+$/, '');
  if (p === '' || p === '.') throw new Error(`tar entry path "${path}" names the archive root`);
  return p;
}

/**
 * The archive's bytes, chunk by chunk, as `entries` are written in order (each streamed file's content
 * is read only when its turn comes).
 * @throws Error on a hard link whose target was not written before it, an owner id or name too large
 * for its header field, or a streamed file whose content is not `size` bytes
 */
export async function* tarChunks(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): AsyncGenerator<Buffer> {
  const pack = tarPack();
  let failure: unknown;
  const feeding = feed(pack, entries).catch((err: unknown) => {
    failure = err;
    pack.destroy(err instanceof Error ? err : new Error(String(err)));
  });
  try {
    for await (const chunk of pack) yield chunk as Buffer;
  } catch (err) {
    throw failure ?? err;
  } finally {
    // A reader that stops early ends the archive; the feeding loop then fails and is ignored.
    if (!pack.destroyed) pack.destroy();
  }
  await feeding;
  if (failure !== undefined) throw failure;
}

/**
 * Writes a whole archive from `entries` in order and returns it.
 * @throws as `tarChunks`
 */
export async function writeTar(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of tarChunks(entries)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function feed(pack: Pack, entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): Promise<void> {
  const files = new Set<string>();
  for await (const entry of entries) {
    const path = normalizeTarPath(entry.path);
    const header = headerOf(entry, path);
    if (entry.type === 'file') {
      await finished(done => pack.entry(header, typeof entry.data === 'string' ? Buffer.from(entry.data, 'utf8') : entry.data, done));
      files.add(path);
    } else if (entry.type === 'streamed-file') {
      await writeStreamed(pack, { ...header, size: entry.size }, entry.content, path);
      files.add(path);
    } else if (entry.type === 'hardlink') {
      // Extractors resolve a hard link against entries already extracted, so the order matters.
      if (!files.has(header.linkname!)) throw new Error(`tar hard link "${path}": target "${header.linkname}" not written before it`);
      await finished(done => pack.entry(header, done));
    } else {
      await finished(done => pack.entry(header, done));
    }
  }
  pack.finalize();
}

function headerOf(entry: TarEntry, path: string): Headers {
  const uid = entry.uid ?? 0;
  const gid = entry.gid ?? 0;
  for (const [field, id] of [['uid', uid], ['gid', gid]] as const) {
    if (!Number.isInteger(id) || id < 0 || id > MAX_ID) throw new Error(`tar entry "${path}": ${field} ${id} does not fit a ustar header`);
  }
  for (const [field, name] of [['uname', entry.uname], ['gname', entry.gname]] as const) {
    if (name !== undefined && Buffer.byteLength(name) > 32) throw new Error(`tar entry "${path}": ${field} "${name}" is longer than 32 bytes`);
  }
  const common: Headers = {
    name: entry.type === 'directory' ? `${path}/` : path,
    mode: entry.mode ?? DEFAULT_MODE[entry.type],
    uid, gid,
    mtime: new Date((entry.mtime ?? 0) * 1000),
    ...(entry.uname !== undefined ? { uname: entry.uname } : {}),
    ...(entry.gname !== undefined ? { gname: entry.gname } : {}),
  };
  switch (entry.type) {
    case 'file': case 'streamed-file': return { ...common, type: 'file' };
    case 'directory': return { ...common, type: 'directory' };
    case 'symlink': return { ...common, type: 'symlink', linkname: entry.target };
    case 'hardlink': return { ...common, type: 'link', linkname: normalizeTarPath(entry.target) };
  }
}

/** Streams one file's content into its entry, waiting for the archive's reader (back-pressure). */
async function writeStreamed(pack: Pack, header: Headers, content: AsyncIterable<Buffer> | Iterable<Buffer>, path: string): Promise<void> {
  let written = 0;
  let entryError: Error | null | undefined;
  const done = new Promise<void>((resolve, reject) => {
    const sink = pack.entry(header, err => { entryError = err; if (err) reject(err); else resolve(); });
    // Failures arrive through the entry's callback; an 'error' event with no listener would throw.
    sink.on('error', () => {});
    void (async () => {
      for await (const chunk of content) {
        written += chunk.length;
        if (written > header.size!) throw new Error(`tar entry "${path}": content is longer than its size ${header.size}`);
        if (!sink.write(chunk)) await new Promise<void>(r => sink.once('drain', () => r()));
        if (entryError) return;
      }
      if (written !== header.size) throw new Error(`tar entry "${path}": content is ${written} bytes, not its size ${header.size}`);
      sink.end(null);
    })().catch((err: unknown) => {
      sink.destroy(err as Error);
      reject(err);
    });
  });
  await done;
}

/** Resolves when tar-stream calls back for an entry. */
function finished(start: (done: (err?: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => start(err => (err ? reject(err) : resolve())));
}
