/** What one runtime handler lets crikit do for pods (the CRI's `RuntimeHandlerFeatures`). */
export interface HandlerFeatures {
  /** Recursive read-only mounts (`Mount.recursive_read_only`). */
  readonly recursiveReadOnlyMounts: boolean;
  /** Pods in a user namespace (`NamespaceOption.userns_options`). */
  readonly userNamespaces: boolean;
}

/** One handler as Status lists it; the default handler is listed a second time with the name ''. */
export interface RuntimeHandlerReport {
  readonly name: string;
  readonly features: HandlerFeatures;
  /** The handler's binary declares idmapped mounts (`linux.mountExtensions.idmap`): volumes may be idmapped. */
  readonly idmapMounts?: boolean | undefined;
  /** Idmapped mounts work in a container that joins another pid namespace too (not in crun before 1.8.6); unset: as `idmapMounts`. */
  readonly idmapMountsJoiningPid?: boolean | undefined;
}

/** Everything Status says about what the runtime can do. */
export interface RuntimeFeaturesReport {
  /** Every configured handler, by name, and the default one again under ''. */
  readonly handlers: readonly RuntimeHandlerReport[];
  /** `RuntimeFeatures.supplemental_groups_policy`: Strict and Merge are honoured. */
  readonly supplementalGroupsPolicy: boolean;
  /** `RuntimeFeatures.user_namespaces_host_network`. */
  readonly userNamespacesHostNetwork: boolean;
  /** What was detected per handler and what crikit implements, JSON-safe, for verbose Status. */
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * The runtime's features, as detected from each handler's OCI runtime binary and the kernel,
 * reported true only where crikit also implements the feature. Detected once and kept.
 */
export interface RuntimeFeatures {
  /** @throws CancelledError / DeadlineExceededError when `signal` fires while detection runs */
  report(signal: AbortSignal): Promise<RuntimeFeaturesReport>;
}
export const RuntimeFeatures = Symbol('RuntimeFeatures');
