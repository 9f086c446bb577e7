import { Duplex } from 'node:stream';
import type { Logger, PortForwarder, PortForwardStreamRequest } from '@crikit/core';
import type { WebSocket } from 'ws';
import { WsChannels } from './ws-channels.js';

/** Subprotocols of port forwarding over WebSocket; '' (none offered) is binary. */
export const wsPortForwardProtocols = ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io'];

/**
 * Serves port forwarding over an accepted WebSocket as the kubelet does: the ports come from the
 * URL's `port` parameters (else the request's), port i gets data channel 2i and error channel 2i+1,
 * each announced with the port as a little-endian uint16. One connection per port; a failed
 * forward is reported on its error channel and the others go on.
 */
export async function serveWsPortForward(ws: WebSocket, ports: readonly number[], request: PortForwardStreamRequest, forwarder: PortForwarder, log: Logger): Promise<void> {
  const channels = new WsChannels(ws, { base64: ws.protocol.includes('base64'), closeSignal: false });
  const gone = new AbortController();
  ws.once('close', () => gone.abort(new Error('client disconnected')));
  await Promise.all(ports.map(async (port, i) => {
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port, 0);
    channels.send(2 * i, portBytes);
    channels.send(2 * i + 1, portBytes);
    const data = Duplex.from({ readable: channels.readable(2 * i), writable: channels.writable(2 * i) });
    // Destroying it when the client goes reports an AbortError: nobody else listens, and the daemon must not crash.
    data.on('error', () => undefined);
    try {
      await forwarder.portForward(request.podSandboxId, port, data, gone.signal);
    } catch (err) {
      if (gone.signal.aborted) return;
      log.info({ sandbox: request.podSandboxId, port, err }, 'port forward failed');
      channels.send(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod ${request.podSandboxId}: ${(err as Error).message}`));
    }
  }));
  ws.close(1000);
}
