export * from './criu-probe.js';
export * from './checkpoint-archive.js';
export * from './container-checkpointer.js';
export * from './checkpoint-images.js';
export * from './checkpoint-restorer.js';
export * from './restore-config.js';
export * from './rootfs-diff.js';
