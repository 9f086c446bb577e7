import { GrpcContainerdClient, containerdConfigSchema } from '@crikit/containerd';
import { silentLogger, type ContainerdClient } from '@crikit/core';

/** A direct client to a test's managed containerd, to check what crikit left there. */
export async function containerdPeek(socketPath: string): Promise<GrpcContainerdClient & ContainerdClient> {
  const client = new GrpcContainerdClient(containerdConfigSchema.parse({ address: socketPath }), { socketPath }, silentLogger);
  await client.start(AbortSignal.timeout(20_000));
  return client;
}
