import type { cri } from '@crikit/api';
import type { ContainerId, SandboxId } from '../ids.js';

/** An Exec request with its container id resolved by the gRPC layer. */
export type ExecStreamRequest = Omit<cri.ExecRequest, 'containerId'> & { readonly containerId: ContainerId };
/** An Attach request with its container id resolved by the gRPC layer. */
export type AttachStreamRequest = Omit<cri.AttachRequest, 'containerId'> & { readonly containerId: ContainerId };
/** A PortForward request with its sandbox id resolved by the gRPC layer. */
export type PortForwardStreamRequest = Omit<cri.PortForwardRequest, 'podSandboxId'> & { readonly podSandboxId: SandboxId };

/**
 * The HTTP streaming server behind Exec, Attach and PortForward: each RPC only hands out a URL with
 * a one-time token; the kubelet (or crictl) then connects to it and upgrades to SPDY or WebSocket.
 * Issuing a URL is in-memory and does not check the container: the server checks state first.
 */
export interface StreamingServer {
  /**
   * A one-time URL that runs `request.cmd` in the container with the requested streams.
   * @throws InvalidArgumentError when no stream is requested, or `tty` is combined with `stderr` (CRI)
   * @throws UnavailableError when the streaming server is not serving
   */
  getExecUrl(request: ExecStreamRequest): string;

  /**
   * A one-time URL that attaches to the container's main process.
   * @throws InvalidArgumentError when no stream is requested, or `tty` is combined with `stderr` (CRI)
   * @throws UnavailableError when the streaming server is not serving
   */
  getAttachUrl(request: AttachStreamRequest): string;

  /**
   * A one-time URL that forwards ports into the pod's network namespace (the ports may also be
   * chosen by the client when it connects).
   * @throws UnavailableError when the streaming server is not serving
   */
  getPortForwardUrl(request: PortForwardStreamRequest): string;
}
export const StreamingServer = Symbol('StreamingServer');
