/**
 * Tells the containerd client which unix socket to dial. The default, ConfiguredContainerdAddress, answers
 * the configured socket path or the managed containerd's socket; an embedder can rebind this token to
 * point the client elsewhere (a socket found at run time, a test double).
 */
export interface ContainerdAddress {
  /** The absolute path of containerd's gRPC unix socket. Read when the client opens its channel. */
  readonly socketPath: string;
}
/** DI token of the ContainerdAddress contract. */
export const ContainerdAddress = Symbol('ContainerdAddress');
