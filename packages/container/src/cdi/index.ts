export * from './cdi-spec.js';
export * from './cdi-requests.js';
export * from './cdi-registry.js';
export * from './apply-cdi-edits.js';
