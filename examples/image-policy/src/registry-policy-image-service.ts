/**
 * An image policy as a decorator of crikit's ImageService: pulls from registries outside an allow
 * list are refused with PermissionDeniedError (gRPC PERMISSION_DENIED) before the inner service
 * runs, so no request reaches the registry. Everything else passes through unchanged.
 *
 * Bind it over the default (which stays bound to itself as ContainerdImageService):
 *   runtime.container.rebind(ImageService).toDynamicValue(ctx =>
 *     new RegistryPolicyImageService(ctx.get(ContainerdImageService), ['registry.example:5000'])).inSingletonScope();
 * The sandbox manager pulls the pause image through the same token, so the policy covers it too.
 */
import type { cri } from '@crikit/api';
import {
  PermissionDeniedError,
  type ImageListFilter, type ImagePullOptions, type ImageRecord, type ImageService,
} from '@crikit/core';
import { ImageReference } from '@crikit/image';

/** Refuses pulls from registries that are not listed; every other call goes to `inner`. */
export class RegistryPolicyImageService implements ImageService {
  private readonly allowed: Set<string>;

  /**
   * @param inner the image service that does the work (crikit's ContainerdImageService)
   * @param allowedRegistries registry hosts as they appear in normalised references:
   *   `docker.io`, `registry.k8s.io`, `127.0.0.1:5000`
   */
  constructor(private readonly inner: ImageService, allowedRegistries: readonly string[]) {
    this.allowed = new Set(allowedRegistries);
  }

  /** Allows one more registry from now on. */
  allow(registry: string): void {
    this.allowed.add(registry);
  }

  /**
   * Pulls through `inner` when the reference's registry is listed. The registry is the one the
   * reference names, after docker's normalisation (`busybox` is `docker.io`); mirrors configured
   * for it in hosts.toml are the operator's choice and are not checked here.
   * @throws PermissionDeniedError naming the image and its registry when the registry is not listed
   * @throws InvalidArgumentError for a malformed reference (from ImageReference.parse)
   */
  async pull(ref: string, options: ImagePullOptions, signal: AbortSignal): Promise<ImageRecord> {
    const { registry } = ImageReference.parse(ref);
    if (!this.allowed.has(registry)) {
      throw new PermissionDeniedError(`pull image "${ref}": registry "${registry}" is not allowed by the image policy`);
    }
    return this.inner.pull(ref, options, signal);
  }

  list(filter?: ImageListFilter): readonly ImageRecord[] {
    return this.inner.list(filter);
  }

  status(ref: string): ImageRecord | undefined {
    return this.inner.status(ref);
  }

  remove(ref: string, signal: AbortSignal): Promise<void> {
    return this.inner.remove(ref, signal);
  }

  fsInfo(signal: AbortSignal): Promise<cri.ImageFsInfoResponse> {
    return this.inner.fsInfo(signal);
  }
}
