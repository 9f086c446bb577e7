export * from './fake-cni-bin.js';
export * from './require-host-tools.js';
