export * from './network-cni-config.js';
export * from './cni-config-dir.js';
export * from './cni-config-watcher.js';
export * from './cni-pod-network.js';
export * from './network-cni-module.js';
