import { inject, injectable } from 'inversify';
import {
  UnimplementedError, type NetworkCondition, type PodNetwork, type PodNetworkEvents, type PodNetworkResult, type Subscribable,
} from '@crikit/core';
import { CniConfigWatcher } from './cni-config-watcher.js';

/**
 * The pod network backed by CNI plugins. Its condition follows the conf dir now; attaching pods
 * (CNI ADD/DEL/CHECK) lands with pod sandboxes and answers UNIMPLEMENTED until then.
 */
@injectable()
export class CniPodNetwork implements PodNetwork {
  constructor(@inject(CniConfigWatcher) private readonly configs: CniConfigWatcher) {}

  get events(): Subscribable<PodNetworkEvents> {
    return this.configs.events;
  }

  status(): NetworkCondition {
    return this.configs.condition();
  }

  async attach(): Promise<PodNetworkResult> {
    throw new UnimplementedError('cni attach: pod networking is not implemented yet');
  }

  async detach(): Promise<void> {
    throw new UnimplementedError('cni detach: pod networking is not implemented yet');
  }

  async check(): Promise<void> {
    throw new UnimplementedError('cni check: pod networking is not implemented yet');
  }

  async updatePodCidr(): Promise<void> {
    throw new UnimplementedError('cni pod cidr: pod networking is not implemented yet');
  }
}
