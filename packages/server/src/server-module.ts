import { ContainerModule } from 'inversify';
import { CriGrpcServer } from './cri-grpc-server.js';
import { CriHandlerGroup } from './cri-handler-group.js';
import { LoggingRpcWrapper, ReadinessGate } from './grpc/rpc-wrapper.js';
import { ImageHandlers } from './image-handlers.js';
import { RuntimeInfoHandlers } from './runtime-info-handlers.js';
import { SandboxHandlers } from './sandbox-handlers.js';
import { ContainerHandlers } from './container-handlers.js';
import { ContainerEventHandlers } from './container-event-handlers.js';
import { StreamingHandlers } from './streaming-handlers.js';
import { StatsHandlers } from './stats-handlers.js';
import { PullProgressHandlers } from './pull-progress-handlers.js';
import { ImageImportHandlers } from './image-import-handlers.js';

/** Binds the gRPC server, the RPC wrapper and the handler groups the server itself answers. */
export const serverModule = new ContainerModule(options => {
  options.bind(ReadinessGate).toSelf().inSingletonScope();
  options.bind(LoggingRpcWrapper).toSelf().inSingletonScope();
  options.bind(CriGrpcServer).toSelf().inSingletonScope();
  options.bind(RuntimeInfoHandlers).toSelf().inSingletonScope();
  options.bind(CriHandlerGroup).toService(RuntimeInfoHandlers);
  options.bind(ImageHandlers).toSelf().inSingletonScope();
  options.bind(CriHandlerGroup).toService(ImageHandlers);
  options.bind(SandboxHandlers).toSelf().inSingletonScope();
  options.bind(CriHandlerGroup).toService(SandboxHandlers);
  options.bind(ContainerHandlers).toSelf().inSingletonScope();
  options.bind(CriHandlerGroup).toService(ContainerHandlers);
  options.bind(ContainerEventHandlers).toSelf().inSingletonScope();
  options.bind(CriHandlerGroup).toService(ContainerEventHandlers);
  options.bind(StreamingHandlers).toSelf().inSingletonScope();
  options.bind(CriHandlerGroup).toService(StreamingHandlers);
  options.bind(StatsHandlers).toSelf().inSingletonScope();
  options.bind(CriHandlerGroup).toService(StatsHandlers);
  options.bind(PullProgressHandlers).toSelf().inSingletonScope();
  options.bind(CriHandlerGroup).toService(PullProgressHandlers);
  options.bind(ImageImportHandlers).toSelf().inSingletonScope();
  options.bind(CriHandlerGroup).toService(ImageImportHandlers);
});
