import { PassThrough, Writable, type Readable } from 'node:stream';
import type { WebSocket } from 'ws';

/** The v5 close signal: a binary message `[255, channel]` half-closes that channel (remotecommand.StreamClose). */
const closeSignal = 255;

/**
 * Channel multiplexing over one WebSocket as k8s.io/apimachinery's wsstream does it: every message
 * starts with its channel number, a byte in the binary protocols and an ASCII digit before base64
 * data in the `base64.` ones. Incoming data becomes one Readable per channel; each channel can be
 * written through a Writable that frames its chunks.
 */
export class WsChannels {
  private readonly incoming = new Map<number, PassThrough>();
  private open = true;

  constructor(private readonly ws: WebSocket, private readonly options: { readonly base64: boolean; readonly closeSignal: boolean }) {
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.once('close', () => {
      this.open = false;
      for (const r of this.incoming.values()) r.end();
    });
  }

  /** What the client sends on `channel`; ends when it half-closes the channel (v5) or the socket closes. */
  readable(channel: number): Readable {
    return this.channel(channel);
  }

  private channel(channel: number): PassThrough {
    let r = this.incoming.get(channel);
    if (!r) {
      r = new PassThrough();
      r.on('drain', () => this.ws.resume());
      this.incoming.set(channel, r);
      if (!this.open) r.end();
    }
    return r;
  }

  /** A Writable whose chunks go to the client on `channel`; its callback waits for the socket. */
  writable(channel: number): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => { this.send(channel, chunk, cb); },
    });
  }

  /** Sends one message on `channel` (an empty one announces the channel). */
  send(channel: number, data: Buffer, cb: (err?: Error | null) => void = () => {}): void {
    if (!this.open || this.ws.readyState !== this.ws.OPEN) { cb(); return; }
    const message = this.options.base64
      ? String.fromCharCode(48 + channel) + data.toString('base64')
      : Buffer.concat([Buffer.from([channel]), data]);
    this.ws.send(message, { binary: !this.options.base64 }, () => cb());
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (data.length === 0) return;
    let channel: number;
    let payload: Buffer;
    if (this.options.base64 && !isBinary) {
      channel = data[0]! - 48;
      payload = Buffer.from(data.subarray(1).toString('ascii'), 'base64');
    } else {
      channel = data[0]!;
      payload = data.subarray(1);
      if (channel === closeSignal && this.options.closeSignal) {
        if (payload.length === 1) this.channel(payload[0]!).end();
        return;
      }
    }
    const r = this.incoming.get(channel);
    if (!r || r.writableEnded || payload.length === 0) return;
    if (!r.write(payload)) this.ws.pause();
  }
}
