import type { AttachStreamRequest, ExecStreamRequest, PortForwardStreamRequest } from '@crikit/core';

/** A request waiting behind a one-time URL: what a client that connects to it gets. */
export type PendingStream =
  | { readonly kind: 'exec'; readonly request: ExecStreamRequest }
  | { readonly kind: 'attach'; readonly request: AttachStreamRequest }
  | { readonly kind: 'portforward'; readonly request: PortForwardStreamRequest };

/** An exec or attach request. */
export type RemoteCommandRequest = Extract<PendingStream, { kind: 'exec' | 'attach' }>;

/** The streams an exec or attach client asked for. */
export interface RequestedStreams {
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

/** Protocols of exec and attach, newest first (k8s.io/apimachinery remotecommand). */
export const remoteCommandProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;
/** The SPDY protocol of port forwarding. */
export const portForwardProtocol = 'portforward.k8s.io';
