export * from './errors.js';
export * from './ids.js';
export * from './logger.js';
export * from './util/cleanup-stack.js';
export * from './util/keyed-single-flight.js';
export * from './util/subscribable.js';
export * from './contracts/containerd-client.js';
export * from './contracts/startable.js';
