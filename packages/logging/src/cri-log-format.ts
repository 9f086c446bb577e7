import { InvalidArgumentError } from '@crikit/core';

/**
 * The CRI container log format, as containerd writes it and the kubelet reads it:
 *
 *     2016-10-06T00:17:09.669794202Z stdout F hello
 *     <RFC3339Nano timestamp> <stream> <tag> <content>\n
 *
 * The tag is `P` for a chunk of a line longer than the maximum line size and `F` for the chunk
 * that ends a line. The content never contains a newline.
 */

/** Which output a log entry came from. */
export type CriLogStream = 'stdout' | 'stderr';

/** What goes into one CRI log line. */
export interface CriLogLine {
  /** When the line was read, in ns since the epoch. */
  readonly timestampNs: bigint;
  readonly stream: CriLogStream;
  /** True for tag `P` (a chunk of a longer line), false for `F`. */
  readonly partial: boolean;
  /** The bytes, without the newline. */
  readonly content: Buffer;
}

/** A CRI log line as read back from a file. */
export interface ParsedCriLogLine extends CriLogLine {
  /** The timestamp exactly as written. */
  readonly timestamp: string;
}

const NS_PER_SECOND = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;
const NEWLINE = 0x0a;
const SPACE = 0x20;

/**
 * Formats ns since the epoch as Go's `time.RFC3339Nano` in UTC, the way containerd stamps log lines:
 * trailing zeros of the fraction are trimmed, and a zero fraction is left out with its dot
 * (`2016-10-06T00:17:09.6697942Z`, `2016-10-06T00:17:09Z`).
 * Pure.
 */
export function formatRfc3339Nano(ns: bigint): string {
  // Floor division, so an instant before the epoch still gets a fraction in [0, 1s).
  let seconds = ns / NS_PER_SECOND;
  let fraction = ns % NS_PER_SECOND;
  if (fraction < 0n) { fraction += NS_PER_SECOND; seconds -= 1n; }
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  if (fraction === 0n) return `${base}Z`;
  return `${base}.${fraction.toString().padStart(9, '0').replace(/0+$/, '')}Z`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses an RFC 3339 timestamp with up to 9 fractional digits (what Go's `time.RFC3339Nano`
 * accepts) into ns since the epoch. Any UTC offset is accepted, since containerd stamps lines in
 * the node's local zone. Pure.
 * @throws InvalidArgumentError when `text` is not such a timestamp
 */
export function parseRfc3339Nano(text: string): bigint {
  const m = RFC3339.exec(text);
  if (!m) throw new InvalidArgumentError(`invalid RFC 3339 timestamp "${text}"`);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(ms);
  // Date.UTC rolls over out-of-range fields (Feb 30 → Mar 2); RFC 3339 does not.
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw new InvalidArgumentError(`invalid RFC 3339 timestamp "${text}": field out of range`);
  }
  const zone = m[8]!;
  const offsetMinutes = zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const fraction = BigInt((m[7] ?? '').padEnd(9, '0'));
  return (BigInt(ms) - BigInt(offsetMinutes) * 60_000n) * NS_PER_MS + fraction;
}

/** The text before the content: `<timestamp> <stream> <tag> `. */
function header(line: CriLogLine): string {
  return `${formatRfc3339Nano(line.timestampNs)} ${line.stream} ${line.partial ? 'P' : 'F'} `;
}

/**
 * Formats one entry as a CRI log line, newline included. Pure.
 * The content is copied as is; it must not contain a newline (the splitter guarantees that).
 */
export function formatCriLogLine(line: CriLogLine): Buffer {
  return formatCriLogLines([line]);
}

/**
 * Formats entries as consecutive CRI log lines in one buffer, so they can go to the file in one
 * write that no other stream's line can split. Pure.
 */
export function formatCriLogLines(lines: readonly CriLogLine[]): Buffer {
  const headers = lines.map(header);
  let size = 0;
  for (let i = 0; i < lines.length; i++) size += headers[i]!.length + lines[i]!.content.length + 1;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    // Headers are ASCII, so latin1 writes one byte per character.
    at += out.write(headers[i]!, at, 'latin1');
    at += lines[i]!.content.copy(out, at);
    out[at++] = NEWLINE;
  }
  return out;
}

/** The next space at or after `from`, or throws naming the missing field. */
function nextSpace(line: Buffer, from: number, field: string): number {
  const at = line.indexOf(SPACE, from);
  if (at === -1) throw new InvalidArgumentError(`invalid CRI log line: no ${field}`);
  return at;
}

/**
 * Parses one CRI log line (with or without its newline) the way the kubelet does: the timestamp,
 * the stream, then the tags separated by `:` of which the first is `P` or `F`, then everything
 * else is content. Pure.
 * @throws InvalidArgumentError when the line does not have that shape
 */
export function parseCriLogLine(input: Buffer | string): ParsedCriLogLine {
  let line = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  if (line.length > 0 && line[line.length - 1] === NEWLINE) line = line.subarray(0, line.length - 1);
  const afterTime = nextSpace(line, 0, 'timestamp');
  const timestamp = line.toString('latin1', 0, afterTime);
  const afterStream = nextSpace(line, afterTime + 1, 'stream');
  const stream = line.toString('latin1', afterTime + 1, afterStream);
  if (stream !== 'stdout' && stream !== 'stderr') throw new InvalidArgumentError(`invalid CRI log line: unknown stream "${stream}"`);
  const afterTags = nextSpace(line, afterStream + 1, 'tag');
  const tag = line.toString('latin1', afterStream + 1, afterTags).split(':')[0];
  if (tag !== 'P' && tag !== 'F') throw new InvalidArgumentError(`invalid CRI log line: unknown tag "${tag}"`);
  return {
    timestamp,
    timestampNs: parseRfc3339Nano(timestamp),
    stream,
    partial: tag === 'P',
    content: Buffer.from(line.subarray(afterTags + 1)),
  };
}

/**
 * Parses a whole CRI log file. A last line without its newline (a write in progress) is parsed
 * too. Pure.
 * @throws InvalidArgumentError naming the first malformed line (1-based)
 */
export function parseCriLog(data: Buffer | string): ParsedCriLogLine[] {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const out: ParsedCriLogLine[] = [];
  for (let start = 0, n = 1; start < buf.length; n++) {
    const nl = buf.indexOf(NEWLINE, start);
    const end = nl === -1 ? buf.length : nl;
    try {
      out.push(parseCriLogLine(buf.subarray(start, end)));
    } catch (err) {
      throw new InvalidArgumentError(`CRI log line ${n}: ${(err as Error).message}`, { cause: err });
    }
    start = end + 1;
  }
  return out;
}

// The wall clock in ns: Date.now() has only ms, so the sub-ms part comes from the monotonic clock,
// anchored to the wall clock and re-anchored when the two drift apart (the wall clock was stepped).
let anchorWallNs = BigInt(Date.now()) * NS_PER_MS;
let anchorMonoNs = process.hrtime.bigint();
const MAX_DRIFT_MS = 5;

/**
 * The current time in ns since the epoch, with sub-ms resolution. Follows wall clock steps
 * within a few ms; between steps it never goes backwards.
 */
export function wallClockNs(): bigint {
  const mono = process.hrtime.bigint();
  const ns = anchorWallNs + (mono - anchorMonoNs);
  const wallMs = Date.now();
  if (Math.abs(wallMs - Number(ns / NS_PER_MS)) > MAX_DRIFT_MS) {
    anchorWallNs = BigInt(wallMs) * NS_PER_MS;
    anchorMonoNs = mono;
    return anchorWallNs;
  }
  return ns;
}
