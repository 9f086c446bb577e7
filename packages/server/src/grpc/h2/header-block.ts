import hpack, { type Decompressor, type HpackHeader } from 'hpack.js';

/**
 * The HPACK header table size crikit's gRPC server (nghttp2 inside Node) advertises: the default of
 * RFC 7540 §6.5.2, which grpc-js does not change. A client's encoder may use up to this much.
 */
export const serverHeaderTableSize = 4096;

/** What `:authority` becomes when a client sends one nghttp2 refuses (a socket path, nothing, or empty). */
export const substituteAuthority = 'localhost';

// RFC 3986 §3.2 authority characters, the set nghttp2 accepts in :authority and host.
const validAuthority = /^[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]+$/;

/**
 * Re-encodes request header blocks of one HTTP/2 connection so that nghttp2 accepts their
 * authority. It decodes every block with the client's HPACK state (a decoder the client's encoder
 * drives, so indexes into the client's dynamic table resolve), and while no block needed a change
 * it lets the client's own bytes through. From the first block that needs one, every block is
 * re-encoded as literals that never touch the dynamic table: the server's decoder then holds no
 * dynamic state the client's later blocks could refer to, so both sides stay consistent.
 */
export class HeaderBlockRewriter {
  private readonly decoder: Decompressor = hpack.decompressor.create({ table: { maxSize: serverHeaderTableSize } });
  private decodeError: Error | undefined;
  private rewriting = false;

  constructor() {
    this.decoder.on('error', err => { this.decodeError = err; });
  }

  /** True once blocks are re-encoded: from then on every block is. */
  get isRewriting(): boolean {
    return this.rewriting;
  }

  /**
   * The block to hand to the server: `undefined` to send the client's bytes unchanged.
   * @throws Error when the block is not valid HPACK for this connection (a COMPRESSION_ERROR)
   */
  rewrite(block: Buffer): Buffer | undefined {
    const headers = this.decode(block);
    const fixed = withValidAuthority(headers);
    if (fixed === headers && !this.rewriting) return undefined;
    this.rewriting = true;
    return encodeLiterals(fixed);
  }

  private decode(block: Buffer): HpackHeader[] {
    this.decoder.write(block);
    this.decoder.execute();
    if (this.decodeError) throw this.decodeError;
    const headers: HpackHeader[] = [];
    for (let h = this.decoder.read(); h !== null; h = this.decoder.read()) headers.push(h);
    return headers;
  }
}

/** `headers` itself when its authority is acceptable, else a copy with `:authority: localhost`. */
export function withValidAuthority(headers: HpackHeader[]): HpackHeader[] {
  const authority = headers.findIndex(h => h.name === ':authority');
  const host = headers.findIndex(h => h.name === 'host');
  const badHost = host >= 0 && !validAuthority.test(headers[host]!.value);
  if (authority >= 0 && validAuthority.test(headers[authority]!.value) && !badHost) return headers;
  if (authority < 0 && host >= 0 && !badHost) return headers;   // HTTP/2 allows host instead of :authority
  const fixed = headers.map(h => (h.name === ':authority' || h.name === 'host' ? { ...h, value: substituteAuthority } : h));
  if (authority < 0) {
    // Pseudo-headers come first (RFC 9113 §8.3): insert after the last one.
    let at = 0;
    while (at < fixed.length && fixed[at]!.name.startsWith(':')) at++;
    fixed.splice(at, 0, { name: ':authority', value: substituteAuthority, neverIndex: false });
  }
  return fixed;
}

const staticNames = hpack['static-table'].map;

/**
 * Encodes headers as HPACK literals "without indexing" (or "never indexed", as the client marked
 * them), naming static-table entries by index and sending strings raw: nothing enters the
 * receiver's dynamic table (RFC 7541 §6.2.2, §6.2.3).
 */
export function encodeLiterals(headers: readonly HpackHeader[]): Buffer {
  const parts: Buffer[] = [];
  for (const h of headers) {
    const flag = h.neverIndex ? 0x10 : 0x00;
    const nameIndex = staticNames[h.name]?.index ?? 0;
    parts.push(encodeInt(nameIndex, 4, flag));
    if (nameIndex === 0) parts.push(encodeString(h.name));
    parts.push(encodeString(h.value));
  }
  return Buffer.concat(parts);
}

function encodeString(s: string): Buffer {
  const bytes = Buffer.from(s, 'latin1');
  return Buffer.concat([encodeInt(bytes.length, 7, 0x00), bytes]);
}

// RFC 7541 §5.1 integer with an N-bit prefix, `flags` in the bits above it.
function encodeInt(value: number, prefixBits: number, flags: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([flags | value]);
  const out = [flags | max];
  let rest = value - max;
  while (rest >= 0x80) { out.push((rest & 0x7f) | 0x80); rest >>>= 7; }
  out.push(rest);
  return Buffer.from(out);
}
