export * from './sandbox-module.js';
