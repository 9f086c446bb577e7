import { inject, injectable } from 'inversify';
import { cri, type PartialMessage } from '@crikit/api';
import { ImageService, InvalidArgumentError, type ImageRecord } from '@crikit/core';
import type { ServiceHandlers } from './grpc/define-service.js';
import type { CriHandlerGroup } from './cri-handler-group.js';

/** The CRI ImageService RPCs, translated onto core's ImageService. */
@injectable()
export class ImageHandlers implements CriHandlerGroup {
  constructor(@inject(ImageService) private readonly images: ImageService) {}

  image(): ServiceHandlers<typeof cri.ImageServiceDefinition> {
    const images = this.images;
    return {
      pullImage: async (req, signal) => {
        const ref = requireImage(req.image, 'image.image');
        const record = await this.images.pull(ref, { auth: req.auth, sandboxConfig: req.sandboxConfig }, signal);
        return { imageRef: record.metadata.id };
      },
      listImages: async req => ({ images: this.images.list({ ref: req.filter?.image?.image || undefined }).map(toCriImage) }),
      // CRI: StreamImages is ListImages in pages, for nodes with more images than one message holds.
      streamImages: async function* (this: void, req) {
        const all = images.list({ ref: req.filter?.image?.image || undefined });
        for (let i = 0; i < all.length; i += streamPage) yield { images: all.slice(i, i + streamPage).map(toCriImage) };
      },
      imageStatus: async req => {
        const record = this.images.status(requireImage(req.image, 'image.image'));
        // CRI: an unknown image is an empty response, not NotFound.
        if (!record) return {};
        const info: Record<string, string> = {};
        if (req.verbose) info.info = JSON.stringify({ chainID: record.metadata.chainId, imageSpec: record.metadata.spec, pinned: record.status.pinned });
        return { image: toCriImage(record), info };
      },
      removeImage: async (req, signal) => {
        await this.images.remove(requireImage(req.image, 'image.image'), signal);
        return {};
      },
      imageFsInfo: (_req, signal) => this.images.fsInfo(signal),
    };
  }
}

/** Images per StreamImages message. */
const streamPage = 100;

function requireImage(spec: cri.ImageSpec | undefined, field: string): string {
  if (!spec?.image) throw new InvalidArgumentError(`${field} is required`);
  return spec.image;
}

/** The CRI view of a stored image. */
export function toCriImage(r: ImageRecord): PartialMessage<cri.Image> {
  return {
    id: r.metadata.id,
    repoTags: [...r.status.repoTags],
    repoDigests: [...r.status.repoDigests],
    size: BigInt(r.metadata.size),
    uid: r.metadata.uid !== undefined ? { value: BigInt(r.metadata.uid) } : undefined,
    username: r.metadata.username,
    spec: { image: r.metadata.id, annotations: {}, userSpecifiedImage: '', runtimeHandler: '', imageRef: '' },
    pinned: r.status.pinned,
  };
}
