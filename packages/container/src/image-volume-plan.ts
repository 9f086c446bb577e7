import { posix } from 'node:path';
import type { cri } from '@crikit/api';
import { InvalidArgumentError, isNotFound, NotFoundError, type ImageLookup, type ImageRecord } from '@crikit/core';

/** One image volume a CreateContainer asks for (a CRI Mount with `image` set), its image found. */
export interface ImageVolumeRequest {
  /** The mount's index in `config.mounts`: it names the volume's snapshot and mount dir. */
  readonly index: number;
  readonly mount: cri.Mount;
  readonly image: ImageRecord;
}

/**
 * The image volumes of a container config (Kubernetes ImageVolume, https://kep.k8s.io/4639), checked
 * as containerd's CRI checks them: no host_path, read-only, an image reference, and the image already
 * stored (the kubelet pulls it with the pod's pull policy before CreateContainer; the runtime never
 * pulls). `image_sub_path` must be relative and stay inside the image.
 * @throws InvalidArgumentError naming the mount and the field, NotFoundError naming the image and the mount
 */
export function planImageVolumes(config: cri.ContainerConfig, images: ImageLookup, what: string): ImageVolumeRequest[] {
  const requests: ImageVolumeRequest[] = [];
  for (const [index, mount] of config.mounts.entries()) {
    if (!mount.image) continue;
    const where = `${what}: image volume mounts[${index}] at "${mount.containerPath}"`;
    if (mount.hostPath !== '') throw new InvalidArgumentError(`${where}: host_path must be empty when image is set`);
    if (!mount.readonly) throw new InvalidArgumentError(`${where}: readonly must be true, image volumes are read-only`);
    const ref = mount.image.image;
    if (ref === '') throw new InvalidArgumentError(`${where}: image.image is required`);
    checkSubPath(mount.imageSubPath, where);
    let image: ImageRecord;
    try {
      image = images.get(ref);
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(`${where}: image "${ref}" is not present (the kubelet pulls it before CreateContainer)`, { cause: err });
      throw err;
    }
    requests.push({ index, mount, image });
  }
  return requests;
}

// The KEP allows a relative path without `..`; containerd opens it inside the image's root, which
// refuses an escape, and so do we, before anything is mounted.
function checkSubPath(subPath: string, where: string): void {
  if (subPath === '') return;
  if (posix.isAbsolute(subPath)) throw new InvalidArgumentError(`${where}: image_sub_path "${subPath}" must be relative`);
  if (subPath.split('/').includes('..')) throw new InvalidArgumentError(`${where}: image_sub_path "${subPath}" must not contain ".."`);
}
