import { ContainerModule } from 'inversify';
import { SandboxManager, Startable } from '@crikit/core';
import { ContainerdSandboxManager } from './containerd-sandbox-manager.js';
import { SandboxRecovery } from './sandbox-recovery.js';
import { SandboxRunner } from './sandbox-run.js';
import { SandboxTeardown } from './sandbox-teardown.js';

/** Binds pod sandboxes on containerd behind core's SandboxManager, and their start-up recovery. */
export const sandboxModule = new ContainerModule(options => {
  options.bind(SandboxRunner).toSelf().inSingletonScope();
  options.bind(SandboxTeardown).toSelf().inSingletonScope();
  options.bind(ContainerdSandboxManager).toSelf().inSingletonScope();
  options.bind(SandboxManager).toService(ContainerdSandboxManager);
  options.bind(SandboxRecovery).toSelf().inSingletonScope();
  options.bind(Startable).toService(SandboxRecovery);
});
