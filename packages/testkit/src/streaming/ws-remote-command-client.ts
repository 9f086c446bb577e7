import WebSocket from 'ws';
import { outputStreams, parseErrorStream, type RemoteCommandOptions, type RemoteCommandSession } from './remote-command-client.js';

const defaultProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io'];

/**
 * Connects to an exec or attach URL over WebSocket (k8s.io/apimachinery wsstream channels: a
 * leading channel byte, or an ASCII digit and base64 in the `base64.` protocols).
 * @throws Error when the server refuses the upgrade (e.g. 404 for a used token)
 */
export function connectWebSocketCommand(url: string, options: RemoteCommandOptions): Promise<RemoteCommandSession> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), [...(options.protocols ?? defaultProtocols)], { rejectUnauthorized: false, perMessageDeflate: false });
  const { stdout, stderr } = outputStreams();
  let errorText = '';
  const send = (channel: number, data: Buffer): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.protocol.includes('base64')) ws.send(String.fromCharCode(48 + channel) + data.toString('base64'));
    else ws.send(Buffer.concat([Buffer.from([channel]), data]));
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (data.length === 0) return;
    const channel = isBinary ? data[0]! : data[0]! - 48;
    const payload = isBinary ? data.subarray(1) : Buffer.from(data.subarray(1).toString('ascii'), 'base64');
    if (channel === 1) stdout.write(payload);
    else if (channel === 2) stderr.write(payload);
    else if (channel === 3) errorText += payload.toString();
  });
  const done = new Promise<ReturnType<typeof parseErrorStream>>(resolve => {
    ws.once('close', () => { stdout.end(); stderr.end(); resolve(parseErrorStream(errorText)); });
  });
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => { reject(new Error(`websocket upgrade refused: ${res.statusCode}`)); res.resume(); });
    ws.once('error', reject);
    ws.once('open', () => {
      ws.on('error', () => undefined);
      resolve({
        protocol: ws.protocol, stdout, stderr, done,
        writeStdin: data => send(0, Buffer.from(data)),
        closeStdin: () => { if (ws.protocol.startsWith('v5.')) send(255, Buffer.from([0])); },
        resize: (width, height) => send(4, Buffer.from(JSON.stringify({ Width: width, Height: height }))),
        kill: () => ws.terminate(),
      });
    });
  });
}
