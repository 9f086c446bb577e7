import { Deflate, Inflate } from 'pako';
import { spdy3Dictionary } from './spdy-dictionary.js';

/** SPDY header names and values; names are lowercase, several values of one name are joined with NUL. */
export type SpdyHeaders = Readonly<Record<string, string>>;

const Z_SYNC_FLUSH = 2;

/**
 * One direction's header compression context. SPDY/3 keeps one zlib stream per direction for the
 * whole session, every block ending with a sync flush. pako is used because it deflates and inflates
 * synchronously while keeping its context, so frames can be written in order without a queue.
 */
export class SpdyHeaderCompressor {
  // A 2 KiB window (it still holds the 1.4 KiB dictionary) and the smallest hash: the default 32 KiB
  // window and tables are some 256 KiB per session, allocated and zeroed for a few header blocks. The
  // peer's inflater takes any window up to 32 KiB (the zlib header says which).
  private readonly deflate = new Deflate({ level: 9, windowBits: 11, memLevel: 1, dictionary: spdy3Dictionary });
  private readonly out: Buffer[] = [];

  constructor() {
    this.deflate.onData = chunk => { this.out.push(Buffer.from(chunk)); };
  }

  /** The compressed name/value block of `headers` (32-bit counts and lengths, SPDY/3 §2.6.10). */
  compress(headers: SpdyHeaders): Buffer {
    const entries = Object.entries(headers);
    const parts: Buffer[] = [u32(entries.length)];
    for (const [name, value] of entries) {
      const n = Buffer.from(name.toLowerCase(), 'utf8');
      const v = Buffer.from(value, 'utf8');
      parts.push(u32(n.length), n, u32(v.length), v);
    }
    this.out.length = 0;
    if (!this.deflate.push(Buffer.concat(parts), Z_SYNC_FLUSH)) throw new Error(`spdy header compression: ${this.deflate.msg}`);
    return Buffer.concat(this.out);
  }
}

/** The peer's header compression context, inflated block by block. */
export class SpdyHeaderDecompressor {
  private readonly inflate = new Inflate({ dictionary: spdy3Dictionary });
  private readonly out: Buffer[] = [];

  constructor() {
    this.inflate.onData = chunk => { this.out.push(Buffer.from(chunk)); };
  }

  /**
   * The headers of one compressed block; names are lowercased.
   * @throws Error on a corrupt block (a session error: the context is lost)
   */
  decompress(block: Buffer): Record<string, string> {
    this.out.length = 0;
    this.inflate.push(block, Z_SYNC_FLUSH);
    if (this.inflate.err) throw new Error(`spdy header block: ${this.inflate.msg || `zlib error ${this.inflate.err}`}`);
    const raw = Buffer.concat(this.out);
    if (raw.length < 4) throw new Error('spdy header block: truncated');
    const count = raw.readUInt32BE(0);
    const headers: Record<string, string> = {};
    let at = 4;
    const take = (): string => {
      if (at + 4 > raw.length) throw new Error('spdy header block: truncated');
      const len = raw.readUInt32BE(at);
      if (at + 4 + len > raw.length) throw new Error('spdy header block: truncated');
      const s = raw.toString('utf8', at + 4, at + 4 + len);
      at += 4 + len;
      return s;
    };
    for (let i = 0; i < count; i++) {
      const name = take().toLowerCase();
      const value = take();
      headers[name] = name in headers ? `${headers[name]}\0${value}` : value;
    }
    return headers;
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}
