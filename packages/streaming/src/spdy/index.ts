export * from './spdy-dictionary.js';
export * from './spdy-header-codec.js';
export * from './spdy-frames.js';
export * from './spdy-stream.js';
export * from './spdy-session.js';
export * from './spdy-upgrade.js';
