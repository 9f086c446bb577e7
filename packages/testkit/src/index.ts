/** @crikit/testkit: OCI image fixtures built from static host binaries, a tar writer and reader, a local docker-registry runner and a push client, for integration tests. */
export * from './tar-writer.js';
export * from './tar-reader.js';
export * from './media-types.js';
export * from './oci-blob.js';
export * from './oci-layer.js';
export * from './oci-image.js';
export * from './oci-index.js';
export * from './static-binary.js';
export * from './busybox-image.js';
export * from './pause-image.js';
export * from './random-layers-image.js';
export * from './multi-arch-index.js';
export * from './local-registry.js';
export * from './registry-push.js';
export * from './corrupt-blob-in-storage.js';
export * from './streaming/index.js';
export * from './leak-checker.js';
