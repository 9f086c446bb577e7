/**
 * Reads tar archives in tests with `tar-stream`: ustar, PAX extended headers and GNU long names, enough
 * to list what the writer or GNU tar produced and to read layer content.
 */
import { extract as tarExtract, type Header } from 'tar-stream';

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
  /** Seconds since the epoch. */
  readonly mtime: number;
  readonly size: number;
  /** Target of a symlink or hard link; empty for other entries. */
  readonly linkTarget: string;
  /** Content of a regular file; empty for other entries. */
  readonly data: Buffer;
}

/** tar-stream's entry types and the typeflags they stand for. */
const TYPEFLAGS: Record<string, string> = {
  'file': '0', 'link': '1', 'symlink': '2', 'character-device': '3', 'block-device': '4',
  'directory': '5', 'fifo': '6', 'contiguous-file': '7',
};

/**
 * Parses every entry of an uncompressed tar archive.
 * @throws Error on a bad header (tar-stream checks each header's checksum) or an archive cut short
 */
export async function readTar(archive: Buffer): Promise<TarReadEntry[]> {
  const extract = tarExtract();
  const entries: TarReadEntry[] = [];
  const reading = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      entries.push(entryOf(entry.header, Buffer.concat(chunks)));
    }
  })();
  extract.end(archive);
  await reading;
  return entries;
}

function entryOf(header: Header, data: Buffer): TarReadEntry {
  const typeflag = TYPEFLAGS[header.type ?? 'file'] ?? '?';
  const name = header.name;
  return {
    path: name.replace(/^(\.\/)+/, '').replace(/\/+$/, ''),
    type: entryType(typeflag, name),
    typeflag,
    mode: header.mode ?? 0,
    uid: header.uid ?? 0,
    gid: header.gid ?? 0,
    uname: header.uname ?? '',
    gname: header.gname ?? '',
    mtime: header.mtime ? Math.floor(header.mtime.getTime() / 1000) : 0,
    size: data.length,
    linkTarget: header.linkname ?? '',
    data,
  };
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
