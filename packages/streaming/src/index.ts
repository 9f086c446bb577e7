export * from './streaming-module.js';
