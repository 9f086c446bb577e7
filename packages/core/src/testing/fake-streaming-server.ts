import type { AttachStreamRequest, ExecStreamRequest, PortForwardStreamRequest, StreamingServer } from '../contracts/streaming-server.js';
import { InvalidArgumentError } from '../errors.js';
import { FakeRecorder, type MethodsOf } from './fake-recorder.js';

/** A URL the fake handed out, and for what. */
export interface IssuedStream {
  readonly kind: 'exec' | 'attach' | 'portforward';
  readonly request: ExecStreamRequest | AttachStreamRequest | PortForwardStreamRequest;
  readonly url: string;
}

/**
 * A StreamingServer that serves nothing: it hands out `<baseUrl>/<kind>/<token>` URLs with
 * sequential tokens and keeps them in `issued`. It applies the CRI's request checks.
 */
export class FakeStreamingServer extends FakeRecorder<MethodsOf<StreamingServer>> implements StreamingServer {
  readonly issued: IssuedStream[] = [];
  private nextToken = 1;

  constructor(readonly baseUrl = 'http://127.0.0.1:10010') {
    super();
  }

  getExecUrl(request: ExecStreamRequest): string {
    this.record('getExecUrl', request);
    checkStreams('exec', request);
    return this.issue('exec', request);
  }

  getAttachUrl(request: AttachStreamRequest): string {
    this.record('getAttachUrl', request);
    checkStreams('attach', request);
    return this.issue('attach', request);
  }

  getPortForwardUrl(request: PortForwardStreamRequest): string {
    this.record('getPortForwardUrl', request);
    return this.issue('portforward', request);
  }

  private issue(kind: IssuedStream['kind'], request: IssuedStream['request']): string {
    const url = `${this.baseUrl}/${kind}/token-${this.nextToken++}`;
    this.issued.push({ kind, request, url });
    return url;
  }
}

/** CRI: at least one stream must be requested, and a TTY has no separate stderr. */
function checkStreams(kind: string, r: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }): void {
  if (!r.stdin && !r.stdout && !r.stderr) throw new InvalidArgumentError(`${kind}: one of stdin, stdout or stderr must be requested`);
  if (r.tty && r.stderr) throw new InvalidArgumentError(`${kind}: tty and stderr cannot both be true`);
}
