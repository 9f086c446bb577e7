import { inject, injectable } from 'inversify';
import type { cri } from '@crikit/api';
import { ContainerManager, ContainerStore, InvalidArgumentError, SandboxStore, type ContainerId } from '@crikit/core';
import type { ServiceHandlers } from './grpc/define-service.js';
import type { CriHandlerGroup } from './cri-handler-group.js';
import { required } from './request-fields.js';
import { toCriContainer, toCriContainerStatus } from './container-views.js';

/** Containers per StreamContainers message. */
const streamPage = 100;

/** The container RPCs of the RuntimeService. */
@injectable()
export class ContainerHandlers implements CriHandlerGroup {
  constructor(
    @inject(ContainerManager) private readonly containers: ContainerManager,
    @inject(ContainerStore) private readonly store: ContainerStore,
    @inject(SandboxStore) private readonly sandboxes: SandboxStore,
  ) {}

  runtime(): ServiceHandlers<typeof cri.RuntimeServiceDefinition> {
    const containers = this.containers;
    return {
      createContainer: async (req, signal) => {
        if (!req.config) throw new InvalidArgumentError('config is required');
        const sandboxId = this.sandboxes.get(required(req.podSandboxId, 'pod_sandbox_id')).metadata.id;
        return { containerId: await this.containers.create({ sandboxId, config: req.config, sandboxConfig: req.sandboxConfig }, signal) };
      },
      startContainer: async (req, signal) => {
        await this.containers.start(this.id(req.containerId), signal);
        return {};
      },
      // CRI: StopContainer and RemoveContainer of an unknown id succeed.
      stopContainer: async (req, signal) => {
        const id = this.find(req.containerId);
        if (id) await this.containers.stop(id, Number(req.timeout), signal);
        return {};
      },
      removeContainer: async (req, signal) => {
        const id = this.find(req.containerId);
        if (id) await this.containers.remove(id, signal);
        return {};
      },
      listContainers: async req => ({ containers: this.containers.list(req.filter).map(toCriContainer) }),
      streamContainers: async function* (this: void, req) {
        const all = containers.list(req.filter);
        for (let i = 0; i < all.length; i += streamPage) yield { containers: all.slice(i, i + streamPage).map(toCriContainer) };
      },
      containerStatus: async (req, signal) => {
        const { record, info } = await this.containers.status(this.id(req.containerId), { verbose: req.verbose }, signal);
        return { status: toCriContainerStatus(record), info: { ...info } };
      },
      updateContainerResources: async (req, signal) => {
        await this.containers.updateResources(this.id(req.containerId), { linux: req.linux, windows: req.windows, annotations: req.annotations }, signal);
        return {};
      },
      execSync: async (req, signal) => {
        const r = await this.containers.execSync(this.id(req.containerId), req.cmd, Number(req.timeout), signal);
        return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
      },
      reopenContainerLog: async (req, signal) => {
        await this.containers.reopenLog(this.id(req.containerId), signal);
        return {};
      },
    };
  }

  private id(idOrPrefix: string): ContainerId {
    return this.store.get(required(idOrPrefix, 'container_id')).metadata.id;
  }

  private find(idOrPrefix: string): ContainerId | undefined {
    return this.store.find(required(idOrPrefix, 'container_id'))?.metadata.id;
  }
}

