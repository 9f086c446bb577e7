export * from './oci-features.js';
export * from './feature-sources.js';
export * from './probed-runtime-features.js';
export * from './version-features.js';
export * from './runtime-probe.js';
