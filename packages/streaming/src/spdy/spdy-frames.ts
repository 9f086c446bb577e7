// SPDY/3.1 framing (https://www.chromium.org/spdy/spdy-protocol/spdy-protocol-draft3-1/), the subset
// Kubernetes streams use (k8s.io/apimachinery httpstream/spdy on github.com/moby/spdystream):
//   control frame: 1 | version(15) = 3 | type(16) | flags(8) | length(24) | payload
//   data frame:    0 | stream id(31)               | flags(8) | length(24) | payload
import type { SpdyHeaderCompressor, SpdyHeaderDecompressor, SpdyHeaders } from './spdy-header-codec.js';

/** Control frame types. */
export const FrameType = { synStream: 1, synReply: 2, rstStream: 3, settings: 4, ping: 6, goAway: 7, headers: 8, windowUpdate: 9 } as const;
/** FLAG_FIN on data and control frames; FLAG_UNIDIRECTIONAL on SYN_STREAM. */
export const flagFin = 0x01;
export const flagUnidirectional = 0x02;
/** RST_STREAM status codes. */
export const RstStatus = { protocolError: 1, invalidStream: 2, refusedStream: 3, cancel: 5, internalError: 6, flowControlError: 7, streamInUse: 8, streamAlreadyClosed: 9 } as const;
/** SETTINGS id of the initial stream window. */
export const settingsInitialWindowSize = 7;
/** The largest payload a frame can carry (24-bit length). */
export const maxFrameLength = 0xffffff;

/** One decoded frame. */
export type SpdyFrame =
  | { readonly type: 'data'; readonly streamId: number; readonly fin: boolean; readonly data: Buffer }
  | { readonly type: 'synStream'; readonly streamId: number; readonly associatedId: number; readonly priority: number; readonly fin: boolean; readonly unidirectional: boolean; readonly headers: Record<string, string> }
  | { readonly type: 'synReply'; readonly streamId: number; readonly fin: boolean; readonly headers: Record<string, string> }
  | { readonly type: 'rstStream'; readonly streamId: number; readonly status: number }
  | { readonly type: 'settings'; readonly entries: readonly { readonly flags: number; readonly id: number; readonly value: number }[] }
  | { readonly type: 'ping'; readonly id: number }
  | { readonly type: 'goAway'; readonly lastGoodStreamId: number; readonly status: number }
  | { readonly type: 'headers'; readonly streamId: number; readonly fin: boolean; readonly headers: Record<string, string> }
  | { readonly type: 'windowUpdate'; readonly streamId: number; readonly delta: number }
  | { readonly type: 'unknown'; readonly frameType: number };

/** A framing error that ends the session (sent as GOAWAY with PROTOCOL_ERROR). */
export class SpdyProtocolError extends Error {}

function control(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | 3, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24 | payload.length) >>> 0, 4);
  return Buffer.concat([head, payload]);
}

const ids = (...values: number[]): Buffer => {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
};

/** Encodes frames; header blocks go through this direction's compressor, so call in send order. */
export class SpdyFrameWriter {
  constructor(private readonly compressor: SpdyHeaderCompressor) {}

  data(streamId: number, data: Buffer, fin: boolean): Buffer {
    if (data.length > maxFrameLength) throw new RangeError(`spdy data frame of ${data.length} bytes`);
    const head = Buffer.alloc(8);
    head.writeUInt32BE(streamId & 0x7fffffff, 0);
    head.writeUInt32BE(((fin ? flagFin : 0) << 24 | data.length) >>> 0, 4);
    return Buffer.concat([head, data]);
  }

  synStream(streamId: number, headers: SpdyHeaders, options: { fin?: boolean; unidirectional?: boolean; associatedId?: number; priority?: number } = {}): Buffer {
    const flags = (options.fin ? flagFin : 0) | (options.unidirectional ? flagUnidirectional : 0);
    const fixed = Buffer.concat([ids(streamId & 0x7fffffff, (options.associatedId ?? 0) & 0x7fffffff), Buffer.from([(options.priority ?? 0) << 5, 0])]);
    return control(FrameType.synStream, flags, Buffer.concat([fixed, this.compressor.compress(headers)]));
  }

  synReply(streamId: number, headers: SpdyHeaders, fin = false): Buffer {
    return control(FrameType.synReply, fin ? flagFin : 0, Buffer.concat([ids(streamId & 0x7fffffff), this.compressor.compress(headers)]));
  }

  headers(streamId: number, headers: SpdyHeaders, fin = false): Buffer {
    return control(FrameType.headers, fin ? flagFin : 0, Buffer.concat([ids(streamId & 0x7fffffff), this.compressor.compress(headers)]));
  }

  rstStream(streamId: number, status: number): Buffer {
    return control(FrameType.rstStream, 0, ids(streamId & 0x7fffffff, status));
  }

  settings(entries: readonly { flags?: number; id: number; value: number }[]): Buffer {
    const payload = Buffer.alloc(4 + 8 * entries.length);
    payload.writeUInt32BE(entries.length, 0);
    entries.forEach((e, i) => {
      payload.writeUInt32BE((((e.flags ?? 0) & 0xff) << 24 | (e.id & 0xffffff)) >>> 0, 4 + 8 * i);
      payload.writeUInt32BE(e.value >>> 0, 8 + 8 * i);
    });
    return control(FrameType.settings, 0, payload);
  }

  ping(id: number): Buffer {
    return control(FrameType.ping, 0, ids(id));
  }

  goAway(lastGoodStreamId: number, status: number): Buffer {
    return control(FrameType.goAway, 0, ids(lastGoodStreamId & 0x7fffffff, status));
  }

  windowUpdate(streamId: number, delta: number): Buffer {
    return control(FrameType.windowUpdate, 0, ids(streamId & 0x7fffffff, delta & 0x7fffffff));
  }
}

/**
 * Splits a byte stream into frames: `push` takes what the socket read and returns the complete
 * frames in it, keeping a partial one for the next call. Header blocks are inflated in order.
 */
export class SpdyFrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly decompressor: SpdyHeaderDecompressor) {}

  /** @throws SpdyProtocolError on a frame that cannot be read */
  push(chunk: Buffer): SpdyFrame[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const frames: SpdyFrame[] = [];
    while (this.buffered.length >= 8) {
      const length = this.buffered.readUInt32BE(4) & 0xffffff;
      if (this.buffered.length < 8 + length) break;
      const frame = this.buffered.subarray(0, 8 + length);
      this.buffered = this.buffered.subarray(8 + length);
      frames.push(this.decode(frame));
    }
    return frames;
  }

  private decode(frame: Buffer): SpdyFrame {
    const flags = frame[4]!;
    const payload = frame.subarray(8);
    if ((frame[0]! & 0x80) === 0) return { type: 'data', streamId: frame.readUInt32BE(0) & 0x7fffffff, fin: (flags & flagFin) !== 0, data: payload };
    const version = frame.readUInt16BE(0) & 0x7fff;
    if (version !== 3) throw new SpdyProtocolError(`spdy version ${version} is not supported`);
    const type = frame.readUInt16BE(2);
    const need = (n: number): void => { if (payload.length < n) throw new SpdyProtocolError(`spdy frame type ${type} too short (${payload.length} bytes)`); };
    const id = (at: number): number => payload.readUInt32BE(at) & 0x7fffffff;
    const fin = (flags & flagFin) !== 0;
    switch (type) {
      case FrameType.synStream:
        need(10);
        return { type: 'synStream', streamId: id(0), associatedId: id(4), priority: payload[8]! >> 5, fin, unidirectional: (flags & flagUnidirectional) !== 0, headers: this.headerBlock(payload.subarray(10)) };
      case FrameType.synReply:
        need(4);
        return { type: 'synReply', streamId: id(0), fin, headers: this.headerBlock(payload.subarray(4)) };
      case FrameType.headers:
        need(4);
        return { type: 'headers', streamId: id(0), fin, headers: this.headerBlock(payload.subarray(4)) };
      case FrameType.rstStream:
        need(8);
        return { type: 'rstStream', streamId: id(0), status: payload.readUInt32BE(4) };
      case FrameType.settings: {
        need(4);
        const count = payload.readUInt32BE(0);
        need(4 + 8 * count);
        const entries = Array.from({ length: count }, (_, i) => ({
          flags: payload[4 + 8 * i]!, id: payload.readUInt32BE(4 + 8 * i) & 0xffffff, value: payload.readUInt32BE(8 + 8 * i),
        }));
        return { type: 'settings', entries };
      }
      case FrameType.ping:
        need(4);
        return { type: 'ping', id: payload.readUInt32BE(0) };
      case FrameType.goAway:
        need(8);
        return { type: 'goAway', lastGoodStreamId: id(0), status: payload.readUInt32BE(4) };
      case FrameType.windowUpdate:
        need(8);
        return { type: 'windowUpdate', streamId: id(0), delta: payload.readUInt32BE(4) & 0x7fffffff };
      default:
        // SPDY/3: an unknown control frame is ignored.
        return { type: 'unknown', frameType: type };
    }
  }

  private headerBlock(block: Buffer): Record<string, string> {
    try {
      return this.decompressor.decompress(block);
    } catch (err) {
      throw new SpdyProtocolError((err as Error).message, { cause: err });
    }
  }
}
