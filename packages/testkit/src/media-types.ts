/** Media types of OCI and Docker schema2 images, indexes and their parts. */
export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** Which family of media types an image or index is written with. */
export type ImageFormat = 'oci' | 'docker';

/** The media types used by one image format. */
export interface FormatMediaTypes {
  readonly manifest: string;
  readonly index: string;
  readonly config: string;
  readonly layerGzip: string;
}

/** Returns the manifest, index, config and gzip layer media types of `format`. */
export function mediaTypesOf(format: ImageFormat): FormatMediaTypes {
  return format === 'oci'
    ? { manifest: MediaType.ociManifest, index: MediaType.ociIndex, config: MediaType.ociConfig, layerGzip: MediaType.ociLayerGzip }
    : { manifest: MediaType.dockerManifest, index: MediaType.dockerManifestList, config: MediaType.dockerConfig,
        layerGzip: MediaType.dockerLayerGzip };
}
