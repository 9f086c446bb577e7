export * from './fake-cni-bin.js';
export * from './fake-netns-manager.js';
export * from './require-host-tools.js';
