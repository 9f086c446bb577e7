export * from './fake-registry.js';
