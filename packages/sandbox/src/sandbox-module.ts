import { ContainerModule } from 'inversify';
import { PortForwarder, SandboxManager, Startable } from '@crikit/core';
import { ContainerdSandboxManager } from './containerd-sandbox-manager.js';
import { NsenterPortForwarder } from './nsenter-port-forwarder.js';
import { SandboxInspection } from './sandbox-inspection.js';
import { SandboxRecovery } from './sandbox-recovery.js';
import { SandboxRunner } from './sandbox-run.js';
import { SandboxSweep } from './sandbox-sweep.js';
import { SandboxTeardown } from './sandbox-teardown.js';
import { SandboxUserNamespaces } from './sandbox-userns.js';

/** Binds pod sandboxes on containerd behind core's SandboxManager, their start-up recovery, and PortForward into their netns. */
export const sandboxModule = new ContainerModule(options => {
  options.bind(SandboxRunner).toSelf().inSingletonScope();
  options.bind(SandboxTeardown).toSelf().inSingletonScope();
  options.bind(SandboxUserNamespaces).toSelf().inSingletonScope();
  options.bind(ContainerdSandboxManager).toSelf().inSingletonScope();
  options.bind(SandboxManager).toService(ContainerdSandboxManager);
  options.bind(SandboxInspection).toSelf().inSingletonScope();
  options.bind(Startable).toService(SandboxInspection);
  options.bind(SandboxRecovery).toSelf().inSingletonScope();
  options.bind(Startable).toService(SandboxRecovery);
  options.bind(SandboxSweep).toSelf().inSingletonScope();
  options.bind(Startable).toService(SandboxSweep);
  options.bind(NsenterPortForwarder).toSelf().inSingletonScope();
  options.bind(PortForwarder).toService(NsenterPortForwarder);
  options.bind(Startable).toService(NsenterPortForwarder);
});
