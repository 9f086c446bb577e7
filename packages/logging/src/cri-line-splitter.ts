import { InvalidArgumentError } from '@crikit/core';

/** One log entry cut from a byte stream, before it is stamped with a time and a stream. */
export interface SplitLine {
  /** True for a chunk of a line longer than the maximum (CRI tag `P`), or a last line cut off by the end of the stream. */
  readonly partial: boolean;
  /** The bytes, without the line ending. */
  readonly content: Buffer;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Cuts a container's output stream into CRI log entries, following containerd's CRI logger
 * (`redirectLogs` in containerd's internal/cri/io/logger.go):
 *
 * - a line ends at `\n`; a `\r` just before it belongs to the ending and is dropped, a `\r`
 *   anywhere else is content;
 * - a line of at most `maxLineBytes` bytes is one `F` entry (an empty line is an empty `F` entry);
 * - a longer line is cut, as its bytes arrive, into `P` entries of exactly `maxLineBytes` bytes,
 *   then an `F` entry with the remaining 1..maxLineBytes bytes;
 * - at the end of the stream, bytes after the last `\n` are written as `P` entries (containerd
 *   cannot tell that line is complete), cut the same way; nothing is written if there are none.
 *
 * How the stream is chunked never changes the result. Memory is bounded by `maxLineBytes` plus
 * one chunk. Not thread-safe (feed it from one stream).
 */
export class CriLineSplitter {
  private parts: Buffer[] = [];
  private pending = 0;
  private ended = false;

  /** @throws InvalidArgumentError when `maxLineBytes` is not a positive integer */
  constructor(readonly maxLineBytes: number) {
    if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes <= 0) {
      throw new InvalidArgumentError(`max line bytes must be a positive integer, got ${maxLineBytes}`);
    }
  }

  /** Bytes held back waiting for the end of their line. */
  get pendingBytes(): number {
    return this.pending;
  }

  /**
   * Takes the next chunk of the stream and returns the entries it completes, in order.
   * @throws InvalidArgumentError after `end()`
   */
  push(chunk: Buffer): SplitLine[] {
    if (this.ended) throw new InvalidArgumentError('line splitter: push after end');
    const out: SplitLine[] = [];
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      if (lf === -1) {
        this.append(chunk.subarray(start), out);
        break;
      }
      this.append(chunk.subarray(start, lf), out);
      out.push({ partial: false, content: this.takeLine() });
      start = lf + 1;
    }
    return out;
  }

  /**
   * Ends the stream and returns the entries for the bytes after the last newline, all `P`
   * (containerd: "readLine only returns error when the message doesn't end with a newline, in
   * that case it should be treated as a partial line"). Idempotent: a second call returns none.
   */
  end(): SplitLine[] {
    if (this.ended) return [];
    this.ended = true;
    const out: SplitLine[] = [];
    // At the end a trailing `\r` can no longer be part of `\r\n`: it counts as content.
    this.cutLongLine(this.pending, out);
    if (this.pending > 0) out.push({ partial: true, content: this.takeAll() });
    return out;
  }

  /** Adds bytes of the current line and cuts `P` entries off it once it is too long. */
  private append(piece: Buffer, out: SplitLine[]): void {
    if (piece.length === 0) return;
    this.parts.push(piece);
    this.pending += piece.length;
    // A trailing `\r` may turn out to be half of a `\r\n` ending, which is not content: containerd
    // puts it back before counting, so a line of exactly maxLineBytes ending in `\r\n` stays whole.
    const last = this.parts[this.parts.length - 1]!;
    const held = last[last.length - 1] === CR ? 1 : 0;
    this.cutLongLine(this.pending - held, out);
  }

  /** While the line's content (`contentBytes` of the pending bytes) is longer than the maximum, cuts a `P` entry off its front. */
  private cutLongLine(contentBytes: number, out: SplitLine[]): void {
    if (contentBytes <= this.maxLineBytes) return;
    let buf = this.takeAll();
    let content = contentBytes;
    while (content > this.maxLineBytes) {
      out.push({ partial: true, content: buf.subarray(0, this.maxLineBytes) });
      buf = buf.subarray(this.maxLineBytes);
      content -= this.maxLineBytes;
    }
    this.parts = [buf];
    this.pending = buf.length;
  }

  /** The whole current line, minus a `\r` that was half of its `\r\n` ending. */
  private takeLine(): Buffer {
    const line = this.takeAll();
    return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
  }

  /** Everything pending, as one buffer, and resets. */
  private takeAll(): Buffer {
    const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.pending);
    this.parts = [];
    this.pending = 0;
    return all;
  }
}
