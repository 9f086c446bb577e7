import { ContainerModule } from 'inversify';
import { Startable, StreamingServer } from '@crikit/core';
import { HttpStreamingServer } from './http-streaming-server.js';

/**
 * Binds the Exec/Attach/PortForward streaming server behind core's StreamingServer. Needs
 * StreamingConfig, ContainerStreams, PortForwarder and Logger bound.
 */
export const streamingModule = new ContainerModule(options => {
  options.bind(HttpStreamingServer).toSelf().inSingletonScope();
  options.bind(StreamingServer).toService(HttpStreamingServer);
  options.bind(Startable).toService(HttpStreamingServer);
});
