export * from './container-module.js';
export * from './spec/index.js';
