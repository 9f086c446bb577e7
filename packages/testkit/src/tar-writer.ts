/**
 * A POSIX ustar writer for building image layers in memory.
 *
 * Every header is a 512-byte ustar block; names longer than the 100-byte `name` field go into the
 * ustar `prefix` field when they split at a `/`, otherwise into a PAX extended header (typeflag `x`)
 * that precedes the entry. Times default to 0 so that the same entries always give the same bytes.
 */

/** Fields shared by every kind of tar entry. */
interface TarEntryBase {
  /** Path inside the archive; a leading `/` or `./` is dropped. */
  readonly path: string;
  /** Permission bits, including setuid/setgid/sticky (e.g. `0o1777`). */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly uname?: string;
  readonly gname?: string;
  /** Seconds since the epoch; 0 by default for reproducible layers. */
  readonly mtime?: number;
}

/** A regular file; `data` given as a string is written as UTF-8. */
export interface TarFileEntry extends TarEntryBase { readonly type: 'file'; readonly data: Buffer | string }
/** A directory. */
export interface TarDirectoryEntry extends TarEntryBase { readonly type: 'directory' }
/** A symbolic link to `target`, stored as given (relative or absolute). */
export interface TarSymlinkEntry extends TarEntryBase { readonly type: 'symlink'; readonly target: string }
/** A hard link to `target`, a file written earlier in the same archive. */
export interface TarHardlinkEntry extends TarEntryBase { readonly type: 'hardlink'; readonly target: string }

/** One entry to write into a tar archive. */
export type TarEntry = TarFileEntry | TarDirectoryEntry | TarSymlinkEntry | TarHardlinkEntry;

/** The header of a regular file whose content is streamed separately (see `TarWriter.fileHeader`). */
export type TarStreamedFile = Omit<TarFileEntry, 'data' | 'type'> & { readonly size: number };

const BLOCK = 512;
const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', directory: '5', pax: 'x' } as const;
const DEFAULT_MODE = { file: 0o644, hardlink: 0o644, symlink: 0o777, directory: 0o755 } as const;

/** Largest value an octal field of `width` bytes holds (width - 1 digits and a NUL). */
const octalMax = (width: number): number => 8 ** (width - 1) - 1;

/** Strips a leading `/` or `./` so that archives hold relative paths, as OCI layers require. */
export function normalizeTarPath(path: string): string {
  let p = path.replace(/^(\.\/|\/)+/, '');
  p = p.replace(/\/+$/, '');
  if (p === '' || p === '.') throw new Error(`tar entry path "${path}" names the archive root`);
  return p;
}

/**
 * Writes tar entries into a list of chunks; `finish()` adds the two zero blocks that end an archive.
 * Not reusable after `finish()`. Throws on a hard link whose target was not written before it.
 */
export class TarWriter {
  private readonly chunks: Buffer[] = [];
  private readonly files = new Set<string>();
  private finished = false;

  /** @param sink receives every chunk in order; by default chunks are kept for `finish()` to join */
  constructor(private readonly sink: (chunk: Buffer) => void = chunk => this.chunks.push(chunk)) {}

  /** Appends one entry (header, optional PAX header, content and padding). */
  add(entry: TarEntry): this {
    this.assertOpen();
    const path = normalizeTarPath(entry.path);
    if (entry.type === 'file') {
      const data = typeof entry.data === 'string' ? Buffer.from(entry.data, 'utf8') : entry.data;
      this.emitHeader(entry, path, 'file', data.length, '');
      this.sink(data);
      this.emitPadding(data.length);
      this.files.add(path);
    } else if (entry.type === 'directory') {
      this.emitHeader(entry, `${path}/`, 'directory', 0, '');
    } else if (entry.type === 'symlink') {
      this.emitHeader(entry, path, 'symlink', 0, entry.target);
    } else {
      const target = normalizeTarPath(entry.target);
      // Extractors resolve a hard link against entries already extracted, so the order matters.
      if (!this.files.has(target)) throw new Error(`tar hard link "${path}": target "${target}" not written before it`);
      this.emitHeader(entry, path, 'hardlink', 0, target);
    }
    return this;
  }

  /**
   * Writes the header of a regular file whose `size` bytes the caller then passes to the sink itself,
   * followed by `padding(size)`. Used to stream large layer content without holding it in memory.
   */
  fileHeader(file: TarStreamedFile): void {
    this.assertOpen();
    const path = normalizeTarPath(file.path);
    this.emitHeader(file, path, 'file', file.size, '');
    this.files.add(path);
  }

  /** The zero bytes that round a file of `size` bytes up to a whole block. */
  static padding(size: number): Buffer {
    const rest = size % BLOCK;
    return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
  }

  /** Ends the archive and returns it when chunks were collected (an empty buffer with a custom sink). */
  finish(): Buffer {
    this.assertOpen();
    this.sink(Buffer.alloc(2 * BLOCK));
    this.finished = true;
    return Buffer.concat(this.chunks);
  }

  private assertOpen(): void {
    if (this.finished) throw new Error('tar writer already finished');
  }

  private emitPadding(size: number): void {
    const pad = TarWriter.padding(size);
    if (pad.length > 0) this.sink(pad);
  }

  private emitHeader(entry: TarEntryBase, name: string, kind: keyof typeof DEFAULT_MODE, size: number, link: string): void {
    const mode = entry.mode ?? DEFAULT_MODE[kind];
    const uid = entry.uid ?? 0;
    const gid = entry.gid ?? 0;
    const mtime = entry.mtime ?? 0;
    const pax: [string, string][] = [];
    const split = splitUstarName(name);
    if (split === undefined) pax.push(['path', name]);
    if (!fitsField(link, 100)) pax.push(['linkpath', link]);
    if (size > octalMax(12)) pax.push(['size', String(size)]);
    if (uid > octalMax(8)) pax.push(['uid', String(uid)]);
    if (gid > octalMax(8)) pax.push(['gid', String(gid)]);
    if (entry.uname !== undefined && !fitsField(entry.uname, 32)) pax.push(['uname', entry.uname]);
    if (entry.gname !== undefined && !fitsField(entry.gname, 32)) pax.push(['gname', entry.gname]);
    if (pax.length > 0) {
      const body = encodePax(pax);
      const paxName = `PaxHeaders/${name.replace(/\/$/, '').split('/').pop() ?? 'entry'}`.slice(0, 100);
      this.sink(ustarHeader({ name: asciiOnly(paxName), prefix: '', mode: 0o644, uid: 0, gid: 0, size: body.length,
        mtime, typeflag: TYPEFLAG.pax, link: '', uname: '', gname: '' }));
      this.sink(body);
      this.emitPadding(body.length);
    }
    // Fields that overflow are carried by the PAX header; the ustar copy is clamped or truncated.
    this.sink(ustarHeader({
      name: split?.name ?? truncateBytes(name, 100), prefix: split?.prefix ?? '', mode,
      uid: Math.min(uid, octalMax(8)), gid: Math.min(gid, octalMax(8)), size: Math.min(size, octalMax(12)),
      mtime, typeflag: TYPEFLAG[kind], link: fitsField(link, 100) ? link : truncateBytes(link, 100),
      uname: entry.uname !== undefined && fitsField(entry.uname, 32) ? entry.uname : '',
      gname: entry.gname !== undefined && fitsField(entry.gname, 32) ? entry.gname : '',
    }));
  }
}

/** Writes a whole archive from `entries` in order and returns it. */
export function writeTar(entries: Iterable<TarEntry>): Buffer {
  const writer = new TarWriter();
  for (const entry of entries) writer.add(entry);
  return writer.finish();
}

interface HeaderFields {
  name: string; prefix: string; mode: number; uid: number; gid: number; size: number; mtime: number;
  typeflag: string; link: string; uname: string; gname: string;
}

function ustarHeader(f: HeaderFields): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(f.name, 0, 100, 'utf8');
  writeOctal(h, 100, 8, f.mode & 0o7777);
  writeOctal(h, 108, 8, f.uid);
  writeOctal(h, 116, 8, f.gid);
  writeOctal(h, 124, 12, f.size);
  writeOctal(h, 136, 12, f.mtime);
  h.write(f.typeflag, 156, 1, 'ascii');
  h.write(f.link, 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write(f.uname, 265, 32, 'utf8');
  h.write(f.gname, 297, 32, 'utf8');
  writeOctal(h, 329, 8, 0);
  writeOctal(h, 337, 8, 0);
  h.write(f.prefix, 345, 155, 'utf8');
  // The checksum is computed with its own field read as eight spaces.
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

function writeOctal(h: Buffer, offset: number, width: number, value: number): void {
  h.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, width, 'ascii');
}

function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

function fitsField(s: string, width: number): boolean {
  return isAscii(s) && s.length <= width;
}

function asciiOnly(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '_');
}

function truncateBytes(s: string, width: number): string {
  return asciiOnly(s).slice(0, width);
}

/** Splits `name` into ustar prefix (≤155 bytes) and name (≤100 bytes) at a `/`, if it can be. */
function splitUstarName(name: string): { prefix: string; name: string } | undefined {
  if (!isAscii(name)) return undefined;
  if (name.length <= 100) return { prefix: '', name };
  // A directory's trailing slash stays with the name part.
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/' || i === name.length - 1) continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (prefix.length <= 155 && rest.length <= 100 && rest.length > 0) return { prefix, name: rest };
    if (prefix.length <= 155) return undefined; // the remaining name only grows further left
  }
  return undefined;
}

/** Encodes PAX records `"<len> <key>=<value>\n"`, where `<len>` counts the whole record. */
function encodePax(records: readonly [string, string][]): Buffer {
  const parts = records.map(([key, value]) => {
    const body = ` ${key}=${value}\n`;
    const bodyLen = Buffer.byteLength(body, 'utf8');
    let len = bodyLen + 1;
    while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
    return Buffer.from(`${len}${body}`, 'utf8');
  });
  return Buffer.concat(parts);
}
