import fs from 'node:fs/promises';
import path from 'node:path';
import { cri } from '@crikit/api';
import { InvalidArgumentError } from '@crikit/core';
import { CheckpointFiles, readJsonMember, type CheckpointConfigDump } from './checkpoint-archive.js';
import type { CheckpointSource } from './checkpoint-source.js';

/** The metadata files of a checkpoint archive. */
export interface CheckpointMetadata {
  readonly config: CheckpointConfigDump;
  /** status.dump: labels, annotations and the image as the original container had them. */
  readonly status: {
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
    readonly image?: { readonly image?: string; readonly user_specified_image?: string };
  };
  /** spec.dump's annotations. */
  readonly specAnnotations: Record<string, string>;
}

/**
 * True when CreateContainer's image names a file: as containerd 2.x does, the file is then taken for
 * a checkpoint archive to restore from. Only absolute paths count (an image reference never is one).
 */
export async function namesArchive(image: string): Promise<boolean> {
  if (!path.isAbsolute(image)) return false;
  return (await fs.stat(image).catch(() => undefined))?.isFile() ?? false;
}

/**
 * Reads config.dump, status.dump and spec.dump from the checkpoint (one pass, skipping the rest).
 * @throws InvalidArgumentError when one is missing or malformed
 */
export async function readCheckpointMetadata(source: CheckpointSource, signal: AbortSignal): Promise<CheckpointMetadata> {
  const found = new Map<string, unknown>();
  const wanted = new Set<string>([CheckpointFiles.config, CheckpointFiles.status, CheckpointFiles.spec]);
  await source.visit({
    file: async (name, size, body) => {
      if (!wanted.has(name)) return false;
      found.set(name, await readJsonMember(source.name, name, size, body));
      return true;
    },
  }, signal);
  for (const name of wanted) if (!found.has(name)) throw new InvalidArgumentError(`${source.name}: it has no ${name}; is it a container checkpoint?`);
  const config = found.get(CheckpointFiles.config) as Partial<CheckpointConfigDump> | null;
  if (!config || typeof config !== 'object' || typeof config.id !== 'string') throw new InvalidArgumentError(`${source.name}: ${CheckpointFiles.config} has no container id`);
  const status = (found.get(CheckpointFiles.status) ?? {}) as CheckpointMetadata['status'];
  const spec = (found.get(CheckpointFiles.spec) ?? {}) as { annotations?: Record<string, string> };
  return { config: config as CheckpointConfigDump, status, specAnnotations: spec.annotations ?? {} };
}

/** The image the checkpointed container ran: its digest reference where known, else its name. */
export function baseImageOf(meta: CheckpointMetadata): string {
  return meta.config.rootfsImageRef || meta.config.rootfsImageName || meta.config.rootfsImage || meta.status.image?.image || '';
}

const podUidKey = 'io.kubernetes.pod.uid';

/**
 * The config a restored container is created with, as containerd 2.x builds it: the request's
 * config on the checkpoint's base image, the original container's annotations (with the kubelet's
 * hash and restart count, and the new pod's uid, from the request), and annotations saying it was
 * restored, when the checkpoint was taken and from which archive. The labels are the request's: the
 * kubelet finds its containers by them.
 */
export function restoredConfig(request: cri.ContainerConfig, meta: CheckpointMetadata, image: string, podUid: string, archive: string): cri.ContainerConfig {
  const annotations: Record<string, string> = { ...meta.status.annotations };
  for (const key of ['io.kubernetes.container.hash', 'io.kubernetes.container.restartCount']) {
    if (key in request.annotations && key in annotations) annotations[key] = request.annotations[key]!;
  }
  if (podUid && podUidKey in annotations) annotations[podUidKey] = podUid;
  annotations.restored = 'true';
  annotations.checkpointedAt = meta.config.checkpointedTime ?? '';
  annotations.checkpointImage = archive;
  return cri.ContainerConfig.fromPartial({
    ...request,
    image: { ...request.image, image, userSpecifiedImage: meta.status.image?.user_specified_image || meta.config.rootfsImageName || image },
    annotations,
  });
}
