import { inject, injectable } from 'inversify';
import {
  deadline, Logger, RuntimesConfig, StartOrder, throwIfAborted,
  type HandlerFeatures, type RuntimeFeatures, type RuntimeFeaturesReport, type RuntimeHandlerReport, type Startable,
} from '@crikit/core';
import { FeatureSources } from './feature-sources.js';
import { detectedHandlerFeatures, detectedIdmapMounts, parseOciFeatures, type KernelFeatures, type OciRuntimeFeatures } from './oci-features.js';
import { deriveFeatures, type DerivedFeatures } from './version-features.js';

/**
 * What crikit itself implements end to end. Status reports a feature only where this is true AND the
 * runtime and kernel support it, so that a kubelet never relies on something crikit would drop.
 */
export const IMPLEMENTED_FEATURES = Object.freeze({
  // The spec builder turns recursive_read_only into `rro` for handlers that have it (container-mounts.ts).
  recursiveReadOnlyMounts: true,
  // Pods in a user namespace: the pause makes it, containers join it, rootfs remapped (sandbox-userns.ts, remapped-snapshots.ts).
  userNamespaces: true,
  // containerUser honours Strict (only the requested groups) and Merge (plus the image's /etc/group).
  supplementalGroupsPolicy: true,
  userNamespacesHostNetwork: false,
});

/** What crikit implements, feature by feature (the shape of `IMPLEMENTED_FEATURES`). */
export type ImplementedFeatures = Readonly<Record<keyof typeof IMPLEMENTED_FEATURES, boolean>>;

/** A handler's features as Status reports them: what the runtime and kernel support and crikit implements. */
export function reportedHandlerFeatures(detected: HandlerFeatures, implemented: ImplementedFeatures = IMPLEMENTED_FEATURES): HandlerFeatures {
  return {
    recursiveReadOnlyMounts: detected.recursiveReadOnlyMounts && implemented.recursiveReadOnlyMounts,
    userNamespaces: detected.userNamespaces && implemented.userNamespaces,
  };
}

/** The containerd runtime type whose handlers run an OCI runtime binary with a `features` subcommand. */
const RUNC_SHIM = 'io.containerd.runc.v2';
const probeTimeoutMs = 5_000;

/** What was found for one handler, for verbose Status and the log. */
interface HandlerProbe {
  readonly binary?: string;
  readonly runtime?: OciRuntimeFeatures;
  /** Why the runtime reports nothing (no `features` subcommand, another runtime type…). */
  readonly error?: string;
  /** Without `features`: the release `--version` names and what the probe saw (version-features.ts). */
  readonly derived?: DerivedFeatures;
  readonly detected: HandlerFeatures;
  readonly reported: HandlerFeatures;
  /** The runtime makes idmapped bind mounts (CRI mounts with uid/gid mappings), in a user namespace pod. */
  readonly idmapMounts: boolean;
  /** …in a container that joins another pid namespace too (see RuntimeHandlerReport). */
  readonly idmapMountsJoiningPid: boolean;
}

/**
 * RuntimeFeatures from `<binary> features` of each configured runc-type handler (runc, crun…) and
 * the kernel, probed once at start-up (or on the first report, if earlier) with a 5 s limit per
 * binary, and combined with `IMPLEMENTED_FEATURES`. A binary without a `features` subcommand that
 * `--version` shows to be crun (before 1.8.6) gets what its release implements and a real run
 * confirms (`deriveFeatures`); any other such binary, or a handler of another runtime type, supports
 * nothing (containerd 2.x does the same).
 */
@injectable()
export class ProbedRuntimeFeatures implements RuntimeFeatures, Startable {
  readonly startName = 'runtime features';
  readonly startOrder = StartOrder.services;
  private probed: Promise<RuntimeFeaturesReport> | undefined;

  constructor(
    @inject(RuntimesConfig) private readonly runtimes: RuntimesConfig,
    @inject(FeatureSources) private readonly sources: FeatureSources,
    @inject(Logger) private readonly log: Logger,
  ) {}

  /** Probes every handler before the first Status. Never fails: a handler that cannot be probed supports nothing. */
  async start(): Promise<void> {
    await this.detect();
  }

  async stop(): Promise<void> {}

  async report(signal: AbortSignal): Promise<RuntimeFeaturesReport> {
    throwIfAborted(signal, 'runtime features');
    return this.detect();
  }

  private detect(): Promise<RuntimeFeaturesReport> {
    this.probed ??= this.probeAll();
    return this.probed;
  }

  private async probeAll(): Promise<RuntimeFeaturesReport> {
    const kernel = await this.sources.kernel();
    const names = Object.keys(this.runtimes.handlers).sort();
    const derivations = new Map<string, Promise<DerivedFeatures>>();
    const probes = new Map(await Promise.all(names.map(async name => [name, await this.probe(name, kernel, derivations)] as const)));
    const handlers: RuntimeHandlerReport[] = [];
    for (const name of names) {
      const { reported: features, idmapMounts, idmapMountsJoiningPid } = probes.get(name)!;
      const idmap = { idmapMounts: features.userNamespaces && idmapMounts, idmapMountsJoiningPid: features.userNamespaces && idmapMountsJoiningPid };
      handlers.push({ name, features, ...idmap });
      // containerd 2.x: the default handler is listed once more, with the empty name pods use for it.
      if (name === this.runtimes.defaultHandler) handlers.push({ name: '', features, ...idmap });
    }
    return {
      handlers,
      supplementalGroupsPolicy: IMPLEMENTED_FEATURES.supplementalGroupsPolicy,
      userNamespacesHostNetwork: IMPLEMENTED_FEATURES.userNamespacesHostNetwork,
      details: { kernel, implemented: IMPLEMENTED_FEATURES, handlers: Object.fromEntries(probes) },
    };
  }

  /** `derivations` shares one derivation (and so one real run) among handlers of the same binary. */
  private async probe(name: string, kernel: KernelFeatures, derivations: Map<string, Promise<DerivedFeatures>>): Promise<HandlerProbe> {
    const handler = this.runtimes.handlers[name]!;
    let binary: string | undefined;
    let runtime: OciRuntimeFeatures | undefined;
    let error: string | undefined;
    if (handler.runtimeType !== RUNC_SHIM) {
      error = `runtime type ${handler.runtimeType} is not ${RUNC_SHIM}: its features are not probed`;
    } else {
      binary = handler.binaryName || 'runc';
      const limit = deadline([], probeTimeoutMs);
      try {
        runtime = parseOciFeatures(await this.sources.runtimeFeatures(binary, limit.signal));
      } catch (err) {
        error = limit.signal.aborted ? `${binary} features: no answer within ${probeTimeoutMs} ms` : (err as Error).message;
      } finally {
        limit.dispose();
      }
    }
    let derived: DerivedFeatures | undefined;
    if (binary && !runtime) {
      const pending = derivations.get(binary) ?? deriveFeatures(binary, this.sources);
      derivations.set(binary, pending);
      derived = await pending;
      runtime = derived.runtime;
    }
    const detected = detectedHandlerFeatures(runtime, kernel);
    const reported = reportedHandlerFeatures(detected);
    const idmapMounts = detectedIdmapMounts(runtime, kernel);
    const idmapMountsJoiningPid = idmapMounts && (runtime?.idmapMountsJoiningPid ?? true);
    this.log.info({ handler: name, binary, detected, reported, idmapMounts, idmapMountsJoiningPid, error, derived }, 'runtime handler features');
    return {
      ...(binary ? { binary } : {}), ...(runtime ? { runtime } : {}), ...(error ? { error } : {}), ...(derived ? { derived } : {}),
      detected, reported, idmapMounts, idmapMountsJoiningPid,
    };
  }
}
