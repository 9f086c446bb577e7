export * from './container-module.js';
