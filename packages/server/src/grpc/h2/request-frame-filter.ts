import { HeaderBlockRewriter } from './header-block.js';

// HTTP/2 frame types and flags (RFC 9113 §6) this filter looks at.
const HEADERS = 0x1;
const SETTINGS = 0x4;
const PING = 0x6;
const CONTINUATION = 0x9;
const ACK = 0x1;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;
const frameHeaderBytes = 9;
const prefaceBytes = 24;
/** SETTINGS_MAX_FRAME_SIZE's initial value, which Node's HTTP/2 server keeps: the largest frame it accepts. */
export const maxFrameBytes = 16_384;
/** A header block (all its frames) larger than this ends the connection instead of being buffered. */
export const maxHeaderBlockBytes = 256 * 1024;
/** An HPACK block no decoder accepts (an indexed field with index 0, RFC 7541 §6.1): the server answers COMPRESSION_ERROR. */
const poisonBlock = Buffer.from([0x80]);

interface OpenBlock {
  readonly streamId: number;
  readonly flags: number;
  readonly priority: Buffer | undefined;
  readonly fragments: Buffer[];
  readonly frames: Buffer[];
  size: number;
}

/**
 * The client-to-server byte stream of one HTTP/2 connection, with each request header block passed
 * through {@link HeaderBlockRewriter}. Every other frame, and the connection preface, go through
 * byte for byte (DATA payloads are not copied), except the client's first SETTINGS ACK: it answers
 * the SETTINGS crikit sent before the server took the connection (see FirstRequestRouter), and the
 * server must not see an ACK it did not ask for. A frame this filter cannot make sense of (a
 * CONTINUATION out of place, bad padding, an oversized frame) is handed on unchanged and the rest of
 * the connection passes raw: the server then answers it with the protocol error it deserves.
 */
export class RequestFrameFilter {
  private readonly rewriter = new HeaderBlockRewriter();
  private carry: Buffer = Buffer.alloc(0);
  private passRemaining = prefaceBytes;
  private block: OpenBlock | undefined;
  private raw = false;
  private ackPending = true;
  private blocks = 0;
  private pinged = false;

  /** Whether the client's first SETTINGS ACK has been seen (and dropped). */
  get settingsAcked(): boolean {
    return !this.ackPending;
  }

  /** How many request header blocks have been complete so far. */
  get headerBlocks(): number {
    return this.blocks;
  }

  /**
   * True once the connection needs this filter for good: a block was re-encoded, a frame was
   * malformed, or a PING came (the client waits for its answer, so nobody may sit on it).
   */
  get mustFilter(): boolean {
    return this.raw || this.rewriter.isRewriting || this.pinged;
  }

  /** The bytes to hand to the server for `chunk` (possibly none, while a frame is incomplete). */
  push(chunk: Buffer): Buffer[] {
    if (this.raw) return [chunk];
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = Buffer.alloc(0);
    const out: Buffer[] = [];
    let off = 0;
    let passFrom = 0;
    while (off < data.length && !this.raw) {
      if (this.passRemaining > 0) {
        const n = Math.min(this.passRemaining, data.length - off);
        off += n;
        this.passRemaining -= n;
        continue;
      }
      if (data.length - off < frameHeaderBytes) break;
      const length = data.readUIntBE(off, 3);
      const type = data[off + 3]!;
      if (length > maxFrameBytes) {
        this.goRaw(out);
        break;
      }
      if (!this.block && type === SETTINGS && length === 0 && (data[off + 4]! & ACK) !== 0 && this.ackPending) {
        if (data.length - off < frameHeaderBytes + length) break;
        // Drop it: it acknowledges crikit's own SETTINGS, not the server's.
        if (off > passFrom) out.push(data.subarray(passFrom, off));
        this.ackPending = false;
        off += frameHeaderBytes + length;
        passFrom = off;
        continue;
      }
      if (!this.block && type !== HEADERS && type !== CONTINUATION) {
        if (type === PING) this.pinged = true;
        this.passRemaining = frameHeaderBytes + length;
        continue;
      }
      if (off > passFrom) out.push(data.subarray(passFrom, off));
      passFrom = off;
      if (data.length - off < frameHeaderBytes + length) break;
      const frame = data.subarray(off, off + frameHeaderBytes + length);
      off += frame.length;
      passFrom = off;
      this.headerFrame(frame, out);
    }
    if (this.raw) {
      out.push(data.subarray(passFrom));
    } else {
      const end = Math.min(off, data.length);
      if (end > passFrom) out.push(data.subarray(passFrom, end));
      if (end < data.length) this.carry = Buffer.from(data.subarray(end));
    }
    return out;
  }

  private headerFrame(frame: Buffer, out: Buffer[]): void {
    const type = frame[3]!;
    const flags = frame[4]!;
    const streamId = frame.readUInt32BE(5) & 0x7fffffff;
    const payload = frame.subarray(frameHeaderBytes);
    if (type === HEADERS && !this.block) {
      const fragment = headersFragment(flags, payload);
      if (streamId === 0 || !fragment) return this.goRaw(out, frame);
      this.block = { streamId, flags, priority: flags & PRIORITY ? payload.subarray(flags & PADDED ? 1 : 0).subarray(0, 5) : undefined,
        fragments: [fragment], frames: [frame], size: fragment.length };
    } else if (type === CONTINUATION && this.block?.streamId === streamId) {
      this.block.fragments.push(payload);
      this.block.frames.push(frame);
      this.block.size += payload.length;
    } else {
      return this.goRaw(out, frame);
    }
    if (this.block.size > maxHeaderBlockBytes) return this.finishBlock(out, poisonBlock);
    if (flags & END_HEADERS) this.finishBlock(out);
  }

  private finishBlock(out: Buffer[], forced?: Buffer): void {
    const block = this.block!;
    this.block = undefined;
    this.blocks++;
    let replacement = forced;
    if (!replacement) {
      try {
        replacement = this.rewriter.rewrite(Buffer.concat(block.fragments));
      } catch {
        replacement = poisonBlock;
      }
    }
    if (!replacement) {
      out.push(...block.frames);
      return;
    }
    out.push(...headerFrames(block.streamId, block.flags & END_STREAM, block.priority, replacement));
    // After a poisoned block the server closes the connection; nothing after it needs decoding.
    if (replacement === poisonBlock) this.raw = true;
  }

  // Hands on what was held back and `frame`, then passes everything raw.
  private goRaw(out: Buffer[], frame?: Buffer): void {
    if (this.block) out.push(...this.block.frames);
    this.block = undefined;
    if (frame) out.push(frame);
    this.raw = true;
  }
}

// The header block fragment of a HEADERS payload, without padding and priority; undefined if malformed.
function headersFragment(flags: number, payload: Buffer): Buffer | undefined {
  let start = 0;
  let end = payload.length;
  if (flags & PADDED) {
    if (payload.length < 1) return undefined;
    end -= payload[0]!;
    start = 1;
  }
  if (flags & PRIORITY) start += 5;
  return start <= end ? payload.subarray(start, end) : undefined;
}

/** A header block as one HEADERS frame and as many CONTINUATION frames as its size needs. */
export function headerFrames(streamId: number, endStream: number, priority: Buffer | undefined, block: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  const room = maxFrameBytes - (priority ? 5 : 0);
  let off = 0;
  let first = true;
  do {
    const size = Math.min(first ? room : maxFrameBytes, block.length - off);
    const last = off + size >= block.length;
    const type = first ? HEADERS : CONTINUATION;
    const flags = (first ? endStream | (priority ? PRIORITY : 0) : 0) | (last ? END_HEADERS : 0);
    const head = Buffer.alloc(frameHeaderBytes);
    head.writeUIntBE(size + (first && priority ? 5 : 0), 0, 3);
    head[3] = type;
    head[4] = flags;
    head.writeUInt32BE(streamId, 5);
    frames.push(head);
    if (first && priority) frames.push(priority);
    frames.push(block.subarray(off, off + size));
    off += size;
    first = false;
  } while (off < block.length);
  return frames;
}
