/**
 * `@crikit/containerd`: core's ContainerdClient port over grpc-js, and containerd as a managed child process.
 */
export { containerdConfigSchema, ContainerdConfig } from './containerd-config.js';
export { ContainerdAddress } from './containerd-address.js';
export { ConfiguredContainerdAddress } from './configured-containerd-address.js';
export { GrpcContainerdClient } from './grpc-containerd-client.js';
export { fromGrpcError } from './grpc-errors.js';
export { ManagedContainerd, ManagedContainerdOptions } from './managed-containerd.js';
export { containerdToml, type ContainerdPluginSections, type ContainerdTomlSettings } from './containerd-toml.js';
export { containerdModule } from './containerd-module.js';
