import type { Readable, Writable } from 'node:stream';
import type { ContainerId } from '../ids.js';

/** A terminal size sent by a streaming client (TTY sessions only). */
export interface TerminalSize {
  readonly width: number;
  readonly height: number;
}

/** The client's side of an exec or attach session; absent streams were not requested. */
export interface StreamingIo {
  readonly stdin?: Readable | undefined;
  readonly stdout?: Writable | undefined;
  readonly stderr?: Writable | undefined;
  /** With a TTY, stderr is merged into stdout. */
  readonly tty: boolean;
  /** Resize requests from the client; ends with the session. */
  readonly resize?: AsyncIterable<TerminalSize> | undefined;
}

/**
 * What the streaming server runs once a client connected to an exec or attach URL. Implemented by
 * the container package, used by the streaming package: neither imports the other.
 */
export interface ContainerStreams {
  /**
   * Runs `cmd` in the container with the client's streams until the process exits.
   * @returns the exit code of the process
   * @throws NotFoundError when the id is not stored
   * @throws FailedPreconditionError when the container is not running
   * @throws CancelledError when `signal` fires (the client went); the process is killed
   */
  exec(id: ContainerId, cmd: readonly string[], io: StreamingIo, signal: AbortSignal): Promise<number>;

  /**
   * Connects the client's streams to the container's main process until it exits or `signal` fires;
   * the process keeps running when the client goes.
   * @throws NotFoundError when the id is not stored
   * @throws FailedPreconditionError when the container is not running, or was not created with stdin for stdin
   */
  attach(id: ContainerId, io: StreamingIo, signal: AbortSignal): Promise<void>;

  /**
   * Whether an attach can still get the running container's stdin: false when it was created
   * without stdin, or with stdin_once and an earlier attach closed it (also before a crikit restart).
   */
  stdinOpen(id: ContainerId): boolean;
}
export const ContainerStreams = Symbol('ContainerStreams');
