import { inject, injectable } from 'inversify';
import type { cri } from '@crikit/api';
import { ContainerStore } from '@crikit/core';
import { ContainerCheckpointer } from '@crikit/container';
import type { ServiceHandlers } from './grpc/define-service.js';
import type { CriHandlerGroup } from './cri-handler-group.js';
import { required } from './request-fields.js';

/**
 * CheckpointContainer (the kubelet's container checkpoint API): an archive of a running container
 * that CreateContainer restores from when its image names the archive's path.
 */
@injectable()
export class CheckpointHandlers implements CriHandlerGroup {
  constructor(
    @inject(ContainerCheckpointer) private readonly checkpointer: ContainerCheckpointer,
    @inject(ContainerStore) private readonly store: ContainerStore,
  ) {}

  runtime(): ServiceHandlers<typeof cri.RuntimeServiceDefinition> {
    return {
      checkpointContainer: async (req, signal) => {
        const id = this.store.get(required(req.containerId, 'container_id')).metadata.id;
        await this.checkpointer.checkpoint(id, required(req.location, 'location'), Number(req.timeout), signal);
        return {};
      },
    };
  }
}
