import { createRequire } from 'node:module';
import { inject, injectable } from 'inversify';
import { cri } from '@crikit/api';
import { CgroupConfig, ContainerdClient, PodNetwork, RuntimeFeatures } from '@crikit/core';
import type { ServiceHandlers } from './grpc/define-service.js';
import type { CriHandlerGroup } from './cri-handler-group.js';
import { CriConfigToken, type CriConfig } from './cri-config-token.js';

/** The version crikit reports: that of the server package. */
export const crikitVersion: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** Version, Status and RuntimeConfig: what the kubelet asks about the runtime itself. */
@injectable()
export class RuntimeInfoHandlers implements CriHandlerGroup {
  constructor(
    @inject(ContainerdClient) private readonly containerd: ContainerdClient,
    @inject(PodNetwork) private readonly network: PodNetwork,
    @inject(CgroupConfig) private readonly cgroup: CgroupConfig,
    @inject(CriConfigToken) private readonly config: CriConfig,
    @inject(RuntimeFeatures) private readonly features: RuntimeFeatures,
  ) {}

  /** The RuntimeService handlers this class answers. */
  runtime(): ServiceHandlers<typeof cri.RuntimeServiceDefinition> {
    return {
      version: async () => ({ version: '0.1.0', runtimeName: 'crikit', runtimeVersion: crikitVersion, runtimeApiVersion: 'v1' }),
      status: (req, signal) => this.status(req.verbose, signal),
      runtimeConfig: async () => ({
        linux: { cgroupDriver: this.cgroup.driver === 'systemd' ? cri.CgroupDriver.SYSTEMD : cri.CgroupDriver.CGROUPFS },
      }),
    };
  }

  // CRI: RuntimeReady says containerd answers; NetworkReady says a CNI config is loaded.
  private async status(verbose: boolean, signal: AbortSignal): Promise<Partial<cri.StatusResponse>> {
    const healthy = await this.containerd.isHealthy(signal);
    const network = this.network.status();
    const conditions: cri.RuntimeCondition[] = [
      { type: 'RuntimeReady', status: healthy, reason: healthy ? '' : 'ContainerdUnreachable', message: healthy ? '' : `containerd does not answer in namespace ${this.containerd.namespace}` },
      { type: 'NetworkReady', status: network.ready, reason: network.reason, message: network.message },
    ];
    const features = await this.features.report(signal);
    const info: Record<string, string> = {};
    if (verbose) {
      info.runtimeFeatures = JSON.stringify(features.details);
      info.config = JSON.stringify(this.config, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      info.network = JSON.stringify(network);
      if (healthy) {
        const v = await this.containerd.version.version({}, { signal, timeoutMs: 2_000 }).catch(() => undefined);
        if (v) info.containerd = JSON.stringify({ version: v.version, revision: v.revision });
      }
    }
    // CRI: each handler with what it supports (detected, and implemented by crikit); '' is the default handler.
    return {
      status: { conditions }, info,
      runtimeHandlers: features.handlers.map(h => ({ name: h.name, features: { ...h.features } })),
      features: { supplementalGroupsPolicy: features.supplementalGroupsPolicy, userNamespacesHostNetwork: features.userNamespacesHostNetwork },
    };
  }
}
