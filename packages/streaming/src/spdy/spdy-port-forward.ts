import type { Logger, PortForwarder, PortForwardStreamRequest } from '@crikit/core';
import type { SpdySession } from './spdy-session.js';
import type { SpdyStream } from './spdy-stream.js';

/**
 * Serves port forwarding over a SPDY session as the kubelet does: for every connection the client
 * opens a data and an error stream with the same `requestID` and `port` headers; once both are
 * there the data stream is forwarded to the port, and a failure is written on the error stream.
 * The session lives until the client closes it (or its idle timeout).
 */
export function serveSpdyPortForward(session: SpdySession, request: PortForwardStreamRequest, forwarder: PortForwarder, log: Logger): void {
  const gone = new AbortController();
  session.once('close', () => gone.abort(new Error('client disconnected')));
  const pairs = new Map<string, { data?: SpdyStream; error?: SpdyStream }>();
  session.on('stream', stream => {
    const type = (stream.headers.streamtype ?? '').toLowerCase();
    const requestId = stream.headers.requestid ?? '';
    const port = Number(stream.headers.port);
    if ((type !== 'data' && type !== 'error') || !Number.isInteger(port) || port < 1 || port > 65535) {
      log.info({ sandbox: request.podSandboxId, headers: stream.headers }, 'port forward: stream refused');
      stream.reset(1);
      return;
    }
    stream.reply();
    const key = `${requestId}/${port}`;
    const pair = pairs.get(key) ?? {};
    pair[type] = stream;
    pairs.set(key, pair);
    if (!pair.data || !pair.error) return;
    pairs.delete(key);
    const { data, error } = pair as Required<typeof pair>;
    error.resume();
    void forward(port, data, error);
  });

  async function forward(port: number, data: SpdyStream, error: SpdyStream): Promise<void> {
    try {
      await forwarder.portForward(request.podSandboxId, port, data, gone.signal);
    } catch (err) {
      if (gone.signal.aborted) return;
      log.info({ sandbox: request.podSandboxId, port, err }, 'port forward failed');
      error.write(`error forwarding port ${port} to pod ${request.podSandboxId}: ${(err as Error).message}`);
    }
    error.end();
    if (!data.writableEnded) data.end();
  }
}
