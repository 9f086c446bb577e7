import { inject, injectable } from 'inversify';
import { cri, type PartialMessage } from '@crikit/api';
import {
  nowNs, PodNetwork, SandboxManager, SandboxStore, toCriSandboxState, type SandboxId, type SandboxRecord,
} from '@crikit/core';
import type { ServiceHandlers } from './grpc/define-service.js';
import type { CriHandlerGroup } from './cri-handler-group.js';
import { required } from './request-fields.js';

/** Sandboxes per StreamPodSandboxes message. */
const streamPage = 100;

/** The pod sandbox RPCs of the RuntimeService, and UpdateRuntimeConfig (the pod CIDR). */
@injectable()
export class SandboxHandlers implements CriHandlerGroup {
  constructor(
    @inject(SandboxManager) private readonly sandboxes: SandboxManager,
    @inject(SandboxStore) private readonly store: SandboxStore,
    @inject(PodNetwork) private readonly network: PodNetwork,
  ) {}

  runtime(): ServiceHandlers<typeof cri.RuntimeServiceDefinition> {
    const sandboxes = this.sandboxes;
    return {
      runPodSandbox: async (req, signal) => ({ podSandboxId: await this.sandboxes.run(req, signal) }),
      // CRI: StopPodSandbox and RemovePodSandbox of an unknown id succeed.
      stopPodSandbox: async (req, signal) => {
        const id = this.resolve(req.podSandboxId);
        if (id) await this.sandboxes.stop(id, signal);
        return {};
      },
      removePodSandbox: async (req, signal) => {
        const id = this.resolve(req.podSandboxId);
        if (id) await this.sandboxes.remove(id, signal);
        return {};
      },
      podSandboxStatus: async (req, signal) => {
        const id = this.store.get(required(req.podSandboxId, 'pod_sandbox_id')).metadata.id;
        const { record, info } = await this.sandboxes.status(id, { verbose: req.verbose }, signal);
        return { status: toCriStatus(record), info: { ...info }, timestamp: nowNs() };
      },
      listPodSandbox: async req => ({ items: this.sandboxes.list(req.filter).map(toCriSandbox) }),
      streamPodSandboxes: async function* (this: void, req) {
        const all = sandboxes.list(req.filter);
        for (let i = 0; i < all.length; i += streamPage) yield { podSandboxes: all.slice(i, i + streamPage).map(toCriSandbox) };
      },
      // CRI: pod-level resources are the kubelet's to apply to the pod cgroup under the cgroupfs and
      // systemd drivers; containerd answers after its NRI hook, and crikit has no NRI: the sandbox
      // must exist, nothing else changes.
      updatePodSandboxResources: async req => {
        this.store.get(required(req.podSandboxId, 'pod_sandbox_id'));
        return {};
      },
      updateRuntimeConfig: async (req, signal) => {
        const cidr = req.runtimeConfig?.networkConfig?.podCidr;
        // CRI: an empty pod CIDR means nothing to update.
        if (cidr) await this.network.updatePodCidr(cidr, signal);
        return {};
      },
    };
  }

  /** The full id of a sandbox named by id or unique prefix; undefined when there is none. */
  private resolve(idOrPrefix: string): SandboxId | undefined {
    return this.store.find(required(idOrPrefix, 'pod_sandbox_id'))?.metadata.id;
  }
}

/** The CRI list entry of a sandbox. */
export function toCriSandbox(r: SandboxRecord): PartialMessage<cri.PodSandbox> {
  const c = r.metadata.config;
  return {
    id: r.metadata.id, metadata: c.metadata, state: toCriSandboxState(r.status.state), createdAt: r.metadata.createdAt,
    labels: c.labels, annotations: c.annotations, runtimeHandler: r.metadata.runtimeHandler,
  };
}

/** The CRI status of a sandbox. */
export function toCriStatus(r: SandboxRecord): PartialMessage<cri.PodSandboxStatus> {
  const c = r.metadata.config;
  return {
    ...toCriSandbox(r),
    network: { ip: r.status.ip, additionalIps: r.status.additionalIps.map(ip => ({ ip })) },
    linux: { namespaces: { options: c.linux?.securityContext?.namespaceOptions ?? cri.NamespaceOption.fromPartial({}) } },
  };
}
