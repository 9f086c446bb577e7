import { packAny, runcOptions, type containers } from '@crikit/api';
import { InvalidArgumentError } from '../errors.js';
import type { RuntimesConfig, RuntimeHandlerConfig } from '../config/runtimes-config.js';

/** The handler config a pod's runtime handler names ('' is the default handler). */
export function runtimeHandler(config: RuntimesConfig, name: string, what: string): { name: string; handler: RuntimeHandlerConfig } {
  const resolved = name || config.defaultHandler;
  const handler = config.handlers[resolved];
  if (!handler) throw new InvalidArgumentError(`${what}: unknown runtime handler "${name}"; known: ${Object.keys(config.handlers).join(', ')}`);
  return { name: resolved, handler };
}

/** The `runtime` of a containerd container for a handler: the shim and its runc options. */
export function containerdRuntime(handler: RuntimeHandlerConfig): containers.Container_Runtime {
  return {
    name: handler.runtimeType,
    options: packAny('containerd.runc.v1.Options', runcOptions.Options, runcOptions.Options.fromPartial({
      binaryName: handler.binaryName, root: handler.root, systemdCgroup: handler.systemdCgroup,
    })),
  };
}
