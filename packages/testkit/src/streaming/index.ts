export * from './remote-command-client.js';
export * from './ws-remote-command-client.js';
export * from './spdy-remote-command-client.js';
export * from './port-forward-client.js';
