import type { NetworkNamespaces } from '../contracts/network-namespaces.js';
import { AlreadyExistsError, throwIfAborted } from '../errors.js';

/**
 * A NetworkNamespaces that pins nothing: it hands out paths under `dir` and remembers which exist.
 * `forget(path)` makes a namespace vanish behind the runtime's back (as after a reboot).
 */
export class FakeNetworkNamespaces implements NetworkNamespaces {
  /** The paths currently "pinned". */
  readonly pinned = new Set<string>();
  /** Every call, as `create <name>`, `remove <path>`. */
  readonly calls: string[] = [];

  constructor(readonly dir = '/run/crikit-fake/netns') {}

  async create(name: string, signal: AbortSignal): Promise<string> {
    this.calls.push(`create ${name}`);
    throwIfAborted(signal, `create netns ${name}`);
    const file = `${this.dir}/${name}`;
    if (this.pinned.has(file)) throw new AlreadyExistsError(`create netns ${file}: a namespace is already pinned there`);
    this.pinned.add(file);
    return file;
  }

  async pin(name: string, source: string, signal: AbortSignal): Promise<string> {
    this.calls.push(`pin ${name} ${source}`);
    throwIfAborted(signal, `pin netns ${name}`);
    const file = `${this.dir}/${name}`;
    if (this.pinned.has(file)) throw new AlreadyExistsError(`pin netns ${file}: a namespace is already pinned there`);
    this.pinned.add(file);
    return file;
  }

  async remove(netnsPath: string, signal: AbortSignal): Promise<void> {
    this.calls.push(`remove ${netnsPath}`);
    throwIfAborted(signal, `remove netns ${netnsPath}`);
    this.pinned.delete(netnsPath);
  }

  async exists(netnsPath: string): Promise<boolean> {
    return this.pinned.has(netnsPath);
  }

  async list(): Promise<string[]> {
    return [...this.pinned].sort();
  }

  /** Makes `netnsPath` pinned without a `create` call (a namespace from before a restart). */
  adopt(netnsPath: string): void {
    this.pinned.add(netnsPath);
  }

  /** Makes `netnsPath` vanish without a `remove` call. */
  forget(netnsPath: string): void {
    this.pinned.delete(netnsPath);
  }
}
