/**
 * A small in-memory tar reader: ustar, PAX extended headers (`x`, `g`) and GNU long names (`L`, `K`),
 * enough to list what the writer or GNU tar produced and to read layer content in tests.
 */

/** The kind of a tar entry; `other` covers devices, FIFOs and unknown typeflags. */
export type TarReadEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

/** One entry read from an archive. */
export interface TarReadEntry {
  /** Path with any leading `./` and trailing `/` removed. */
  readonly path: string;
  readonly type: TarReadEntryType;
  /** The raw typeflag character (`'0'`, `'5'`, …). */
  readonly typeflag: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly uname: string;
  readonly gname: string;
  readonly mtime: number;
  readonly size: number;
  /** Target of a symlink or hard link; empty for other entries. */
  readonly linkTarget: string;
  /** Content of a regular file (a view into the archive buffer); empty for other entries. */
  readonly data: Buffer;
}

const BLOCK = 512;

/**
 * Parses every entry of an uncompressed tar archive.
 * @throws Error on a bad header checksum or an archive cut short
 */
export function readTar(archive: Buffer): TarReadEntry[] {
  const entries: TarReadEntry[] = [];
  let global: Record<string, string> = {};
  let local: Record<string, string> = {};
  let offset = 0;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (isZeroBlock(header)) break;
    verifyChecksum(header, offset);
    const typeflag = header[156] === 0 ? '0' : String.fromCharCode(header[156]!);
    const headerSize = readNumber(header, 124, 12);
    const isMeta = typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K';
    // A PAX `size` overrides the header of the entry it describes, never that of a meta header.
    const paxSize = local.size ?? global.size;
    const size = isMeta || paxSize === undefined ? headerSize : Number(paxSize);
    const dataStart = offset + BLOCK;
    // Links and directories carry no content in the archive, whatever their size field says.
    const contentSize = typeflag === '1' || typeflag === '2' || typeflag === '5' ? 0 : size;
    const dataEnd = dataStart + contentSize;
    if (dataEnd > archive.length) throw new Error(`tar entry at offset ${offset} runs past the end of the archive`);
    const data = archive.subarray(dataStart, dataEnd);
    offset = dataStart + Math.ceil(contentSize / BLOCK) * BLOCK;

    if (typeflag === 'x') { local = { ...local, ...parsePax(data) }; continue; }
    if (typeflag === 'g') { global = { ...global, ...parsePax(data) }; continue; }
    if (typeflag === 'L') { local = { ...local, path: cString(data) }; continue; }
    if (typeflag === 'K') { local = { ...local, linkpath: cString(data) }; continue; }

    const attrs = { ...global, ...local };
    local = {};
    const magic = header.toString('ascii', 257, 263);
    const prefix = magic.startsWith('ustar') ? cString(header.subarray(345, 500)) : '';
    const rawName = cString(header.subarray(0, 100));
    const name = attrs.path ?? (prefix !== '' ? `${prefix}/${rawName}` : rawName);
    entries.push({
      path: cleanPath(name),
      type: entryType(typeflag, name),
      typeflag,
      mode: readNumber(header, 100, 8),
      uid: attrs.uid !== undefined ? Number(attrs.uid) : readNumber(header, 108, 8),
      gid: attrs.gid !== undefined ? Number(attrs.gid) : readNumber(header, 116, 8),
      uname: attrs.uname ?? cString(header.subarray(265, 297)),
      gname: attrs.gname ?? cString(header.subarray(297, 329)),
      mtime: attrs.mtime !== undefined ? Math.floor(Number(attrs.mtime)) : readNumber(header, 136, 12),
      size: contentSize,
      linkTarget: attrs.linkpath ?? cString(header.subarray(157, 257)),
      data,
    });
  }
  return entries;
}

function entryType(typeflag: string, name: string): TarReadEntryType {
  switch (typeflag) {
    case '0': case '7': return name.endsWith('/') ? 'directory' : 'file';
    case '1': return 'hardlink';
    case '2': return 'symlink';
    case '5': return 'directory';
    default: return 'other';
  }
}

function cleanPath(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

function isZeroBlock(block: Buffer): boolean {
  for (const byte of block) if (byte !== 0) return false;
  return true;
}

function verifyChecksum(header: Buffer, offset: number): void {
  const stored = readNumber(header, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  if (sum !== stored) throw new Error(`tar header at offset ${offset}: checksum ${stored} does not match ${sum}`);
}

/** Reads an octal field, or a GNU base-256 field when the high bit of its first byte is set. */
function readNumber(header: Buffer, offset: number, width: number): number {
  const field = header.subarray(offset, offset + width);
  if ((field[0]! & 0x80) !== 0) {
    let value = field[0]! & 0x7f;
    for (let i = 1; i < width; i++) value = value * 256 + field[i]!;
    return value;
  }
  const text = field.toString('ascii').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.toString('utf8', 0, end === -1 ? bytes.length : end);
}

/** Parses PAX records `"<len> <key>=<value>\n"`. */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const len = parseInt(data.toString('ascii', pos, space), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = data.toString('utf8', space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}
