import { Any } from '@crikit/api';
import { FailedPreconditionError, getTask, isLive, isNotFound, type ContainerdClient } from '@crikit/core';
import type { OciSpec } from '@crikit/oci';

const resourcesTypeUrl = 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources';

/**
 * Sends new limits to container `id`'s running task. A task that exited meanwhile (containerd's NOT_FOUND,
 * or runc's "container not running" passed through as UNKNOWN) is FAILED_PRECONDITION naming the container,
 * as for an update of a container already exited; other failures are rethrown.
 */
export async function updateTaskResources(
  containerd: ContainerdClient, id: string, name: string, resources: NonNullable<OciSpec['linux']>['resources'], signal: AbortSignal,
): Promise<void> {
  try {
    await containerd.tasks.update({ containerId: id, resources: Any.fromPartial({ typeUrl: resourcesTypeUrl, value: Buffer.from(JSON.stringify(resources)) }) }, { signal });
  } catch (err) {
    if (isNotFound(err) || !isLive(await getTask(containerd, id, signal).catch(() => undefined))) {
      throw new FailedPreconditionError(`update resources of container ${name}: it exited during the update`, { cause: err });
    }
    throw err;
  }
}
