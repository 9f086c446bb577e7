import { PassThrough, type Readable } from 'node:stream';

/** Which transport a streaming client speaks. */
export type StreamTransport = 'websocket' | 'spdy';

/** What an exec or attach client asks for; must match the Exec/Attach request the URL was made for. */
export interface RemoteCommandOptions {
  readonly transport: StreamTransport;
  readonly stdin?: boolean;
  readonly stdout?: boolean;
  readonly stderr?: boolean;
  readonly tty?: boolean;
  /** Protocols to offer, preferred first; default: v5, v4, v3, v2, channel.k8s.io (WebSocket: v5, v4, channel.k8s.io). */
  readonly protocols?: readonly string[];
}

/** How a remote command ended, read from the error stream. */
export interface RemoteCommandResult {
  /** The exit code from a v4/v5 status (0 on Success); undefined when the status is not an exit. */
  readonly exitCode: number | undefined;
  /** The raw error stream: v4/v5 status JSON, or an older protocol's error text ('' on success). */
  readonly errorStream: string;
  /** The parsed v4/v5 status, when there is one. */
  readonly status: { status?: string; reason?: string; message?: string; details?: { causes?: { reason?: string; message?: string }[] } } | undefined;
}

/** A connected exec or attach session. */
export interface RemoteCommandSession {
  /** The protocol the server chose. */
  readonly protocol: string;
  /** Output as it arrives; ends when the server closes the stream. */
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Writes to the command's stdin. */
  writeStdin(data: Buffer | string): void;
  /** Closes the command's stdin (SPDY: FIN; WebSocket v5: the close signal). */
  closeStdin(): void;
  /** Sends a terminal size (TTY sessions). */
  resize(width: number, height: number): void;
  /** Resolves when the server has ended the session. */
  readonly done: Promise<RemoteCommandResult>;
  /** Drops the connection at once, as a killed client would. */
  kill(): void;
}

/** Collected output and the result of a whole session. */
export interface RemoteCommandOutput extends RemoteCommandResult {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

/** Reads a session to its end: feeds `stdin` (then closes it), collects stdout and stderr. */
export async function collectSession(session: RemoteCommandSession, stdin?: Buffer | string): Promise<RemoteCommandOutput> {
  const out = readAll(session.stdout);
  const err = readAll(session.stderr);
  if (stdin !== undefined) {
    session.writeStdin(stdin);
    session.closeStdin();
  }
  const result = await session.done;
  return { ...result, stdout: await out, stderr: await err };
}

/** The result a session's error stream holds. */
export function parseErrorStream(text: string): RemoteCommandResult {
  if (!text.startsWith('{')) return { exitCode: text === '' ? 0 : undefined, errorStream: text, status: undefined };
  const status = JSON.parse(text) as RemoteCommandResult['status'];
  if (status?.status === 'Success') return { exitCode: 0, errorStream: text, status };
  const cause = status?.reason === 'NonZeroExitCode' ? status.details?.causes?.find(c => c.reason === 'ExitCode') : undefined;
  return { exitCode: cause ? Number(cause.message) : undefined, errorStream: text, status };
}

/** Everything a stream yields until it ends (or closes: a reset SPDY stream ends what it said). */
export function readAll(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.once('end', () => resolve(Buffer.concat(parts)));
    stream.once('close', () => resolve(Buffer.concat(parts)));
    stream.once('error', reject);
  });
}

/** Resolves with what `stream` has said once it contains `text` (or rejects after `ms`). */
export function waitForOutput(stream: Readable, text: string, ms = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out waiting for ${JSON.stringify(text)}; got ${JSON.stringify(seen)}`)); }, ms);
    const onData = (c: Buffer): void => {
      seen += c.toString();
      if (seen.includes(text)) { cleanup(); resolve(seen); }
    };
    const onEnd = (): void => { cleanup(); reject(new Error(`stream ended before ${JSON.stringify(text)}; got ${JSON.stringify(seen)}`)); };
    const cleanup = (): void => { clearTimeout(timer); stream.off('data', onData); stream.off('end', onEnd); };
    stream.on('data', onData);
    stream.once('end', onEnd);
  });
}

/** A fresh PassThrough pair for a session's outputs. */
export function outputStreams(): { stdout: PassThrough; stderr: PassThrough } {
  return { stdout: new PassThrough(), stderr: new PassThrough() };
}
