import { inject, injectable } from 'inversify';
import type { ContainerdAddress } from './containerd-address.js';
import { ContainerdConfig } from './containerd-config.js';
import { ManagedContainerd } from './managed-containerd.js';

/**
 * The default ContainerdAddress: the managed containerd's socket when `address` is `managed`, otherwise the
 * configured socket path with any `unix://` prefix dropped. Pure; reading `socketPath` never fails.
 */
@injectable()
export class ConfiguredContainerdAddress implements ContainerdAddress {
  constructor(
    @inject(ContainerdConfig) private readonly config: ContainerdConfig,
    @inject(ManagedContainerd) private readonly managed: ManagedContainerd,
  ) {}

  /** The socket path the client dials. */
  get socketPath(): string {
    if (this.config.address === 'managed') return this.managed.address;
    return this.config.address.replace(/^unix:\/\//, '');
  }
}
