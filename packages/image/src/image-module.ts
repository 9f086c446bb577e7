import { ContainerModule } from 'inversify';
import { ImageLookup, ImageService, Startable } from '@crikit/core';
import { ContainerdImageService } from './containerd-image-service.js';
import { ImageFsUsage } from './image-fs-usage.js';
import { ImagePuller } from './image-puller.js';
import { ImageImporter } from './image-importer.js';
import { ImageRecovery } from './image-recovery.js';
import { RegistryClient } from './registry-client.js';
import { RegistryHosts } from './registry-hosts.js';

/**
 * Binds the image service on containerd: the registry side (hosts.toml endpoints, distribution
 * client), the puller, ImageFsInfo, start-up recovery, and core's ImageService and ImageLookup.
 * Each class is bound to itself, so an embedder can rebind or decorate any of them.
 */
export const imageModule = new ContainerModule(options => {
  options.bind(RegistryHosts).toSelf().inSingletonScope();
  options.bind(RegistryClient).toSelf().inSingletonScope();
  options.bind(ImagePuller).toSelf().inSingletonScope();
  options.bind(ImageFsUsage).toSelf().inSingletonScope();
  options.bind(ImageRecovery).toSelf().inSingletonScope();
  options.bind(ImageImporter).toSelf().inSingletonScope();
  options.bind(Startable).toService(ImageRecovery);
  options.bind(ContainerdImageService).toSelf().inSingletonScope();
  options.bind(ImageService).toService(ContainerdImageService);
  options.bind(ImageLookup).toService(ContainerdImageService);
});
