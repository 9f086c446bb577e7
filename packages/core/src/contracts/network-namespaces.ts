/**
 * Pinned network namespaces: a new namespace bind-mounted to a file, so it outlives its processes
 * and crikit restarts. One per non-host-network sandbox; implemented in `network-cni`.
 */
export interface NetworkNamespaces {
  /**
   * Creates and pins a namespace named `name` (the sandbox id).
   * @returns the path of the pinned namespace file (CNI_NETNS, the OCI spec's network namespace path)
   * @throws UnavailableError when the namespace cannot be made
   */
  create(name: string, signal: AbortSignal): Promise<string>;
  /**
   * Pins the existing namespace at `source` (`/proc/<pid>/ns/net`) under `name`, as `create` would pin
   * a new one: for a pod in a user namespace, whose netns its pause makes so that the userns owns it.
   * @returns the path of the pinned namespace file
   * @throws UnavailableError when it cannot be pinned, AlreadyExistsError when `name` is pinned already
   */
  pin(name: string, source: string, signal: AbortSignal): Promise<string>;
  /** Unpins and deletes the namespace at `path`. Idempotent: a missing path resolves. */
  remove(path: string, signal: AbortSignal): Promise<void>;
  /** True when `path` pins a network namespace. */
  exists(path: string): Promise<boolean>;
  /** The paths of every namespace pinned by this manager (recovery removes those no sandbox owns). */
  list(): Promise<string[]>;
}
export const NetworkNamespaces = Symbol('NetworkNamespaces');
