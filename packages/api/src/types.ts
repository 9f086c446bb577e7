// containerd.types: descriptors, mounts, platforms, metrics and event envelopes shared by containerd's services.
export * from './gen/types/descriptor.js';
export * from './gen/types/event.js';
export * from './gen/types/introspection.js';
export * from './gen/types/metrics.js';
export * from './gen/types/mount.js';
export * from './gen/types/platform.js';
