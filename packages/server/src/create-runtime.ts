import { join } from 'node:path';
import { Container, ContainerModule } from 'inversify';
import { CgroupConfig, coreModule, Logger, PathsConfig, RuntimesConfig, silentLogger, Snapshotter } from '@crikit/core';
import { ContainerdConfig, containerdModule } from '@crikit/containerd';
import { NetworkCniConfig, networkCniModule } from '@crikit/network-cni';
import { ContentStoreDir, ImageConfig, imageModule } from '@crikit/image';
import { SandboxConfig, sandboxModule } from '@crikit/sandbox';
import { ContainerConfig, containerModule } from '@crikit/container';
import { LoggingConfig, loggingModule } from '@crikit/logging';
import { MetricsConfig, metricsModule } from '@crikit/metrics';
import { StreamingConfig, streamingModule } from '@crikit/streaming';
import { TracingConfig, tracingModule } from '@crikit/tracing';
import { parseCriConfig, type CriConfig, type CriConfigInput } from './cri-config.js';
import { CriConfigToken } from './cri-config-token.js';
import { CriRuntime } from './cri-runtime.js';
import { ServerConfig } from './server-config.js';
import { serverModule } from './server-module.js';

/** How to build a runtime. */
export interface CreateRuntimeOptions {
  /** The config (as a TOML file would say it); every missing key takes its default. */
  config?: CriConfigInput;
  /** Where logs go (a pino logger fits); silent by default. */
  logger?: Logger;
  /** Modules loaded last, e.g. one that rebinds a service. */
  overrides?: ContainerModule[];
}

/**
 * Composes every package's module into one DI container and returns the runtime, not yet started.
 * An embedder may `runtime.container.rebind(Token)` before `start`.
 * @throws InvalidArgumentError for an invalid config
 */
export function createRuntime(options: CreateRuntimeOptions = {}): CriRuntime {
  const { config, warnings } = parseCriConfig(options.config ?? {});
  const log = options.logger ?? silentLogger;
  for (const w of warnings) log.warn({}, w);
  const configModule = new ContainerModule(o => {
    o.bind(Logger).toConstantValue(log);
    o.bind(CriConfigToken).toConstantValue(config);
    o.bind(ServerConfig).toConstantValue(config.server);
    o.bind(PathsConfig).toConstantValue(config.paths);
    o.bind(CgroupConfig).toConstantValue(config.cgroup);
    o.bind(ContainerdConfig).toConstantValue(config.containerd);
    o.bind(NetworkCniConfig).toConstantValue(config.cni);
    o.bind(ImageConfig).toConstantValue(config.image);
    const contentDir = contentStoreDir(config);
    if (contentDir !== undefined) o.bind(ContentStoreDir).toConstantValue(contentDir);
    o.bind(Snapshotter).toConstantValue(config.image.snapshotter);
    o.bind(SandboxConfig).toConstantValue(config.sandbox);
    o.bind(RuntimesConfig).toConstantValue(config.runtimes);
    o.bind(ContainerConfig).toConstantValue(config.container);
    o.bind(LoggingConfig).toConstantValue(config.logging);
    o.bind(StreamingConfig).toConstantValue(config.streaming);
    o.bind(MetricsConfig).toConstantValue(config.metrics);
    o.bind(TracingConfig).toConstantValue(config.tracing);
  });
  const container = new Container();
  container.load(
    configModule, coreModule, containerdModule, imageModule, networkCniModule,
    sandboxModule, containerModule, loggingModule, metricsModule, streamingModule,
    serverModule,
    // Traces only when asked for: without the module nothing is traced and OpenTelemetry is never loaded.
    ...(config.tracing.endpoint === '' ? [] : [tracingModule]),
    ...(options.overrides ?? []),
  );
  return new CriRuntime(container, config, log);
}

/** Where pulls write blobs directly (image.directContentWrite): the managed containerd's content store, or image.contentDir. */
function contentStoreDir(config: CriConfig): string | undefined {
  if (!config.image.directContentWrite) return undefined;
  if (config.image.contentDir !== undefined) return config.image.contentDir;
  return config.containerd.address === 'managed' ? join(config.containerd.managed.rootDir, 'io.containerd.content.v1.content') : undefined;
}
