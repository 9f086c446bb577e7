export * from './logging-config.js';
export * from './cri-log-format.js';
export * from './cri-line-splitter.js';
export * from './cri-log-file.js';
export * from './noop-log-sink.js';
export * from './cri-file-log-writer.js';
export * from './logging-module.js';
