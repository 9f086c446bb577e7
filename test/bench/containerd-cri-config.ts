import type { ContainerdPluginSections } from '@crikit/containerd';

/** containerd's own CRI plugin, which a benchmark runs beside crikit for comparison. */
export const containerdCriPluginId = 'io.containerd.grpc.v1.cri';

/** The settings of containerd's CRI plugin that a side-by-side benchmark sets. */
export interface ContainerdCriPluginSettings {
  /** The pause image of every pod sandbox; `registry.k8s.io/pause:3.10` by default. */
  readonly sandboxImage?: string;
  /** Where the CNI plugin binaries are. */
  readonly cniBinDir: string;
  /** Where the CNI network configs are. */
  readonly cniConfDir: string;
  /** A directory of per-registry `hosts.toml` files (containerd's certs.d layout). */
  readonly registryConfigPath: string;
  /** The snapshotter containers are prepared on; `overlayfs` by default, as crikit's. */
  readonly snapshotter?: string;
}

/**
 * The plugin section that turns containerd's CRI on for `ManagedContainerd` (its `plugins` option),
 * set up as crikit is in the benchmarks: runc as the only runtime, restrict_oom_score_adj on (the
 * VMs the benchmarks run on withhold CAP_SYS_RESOURCE, and crikit is configured the same way).
 * Key names are containerd 1.6/1.7's: https://github.com/containerd/containerd/blob/release/1.7/docs/cri/config.md
 */
export function containerdCriPlugin(settings: ContainerdCriPluginSettings): ContainerdPluginSections {
  return {
    [containerdCriPluginId]: {
      sandbox_image: settings.sandboxImage ?? 'registry.k8s.io/pause:3.10',
      restrict_oom_score_adj: true,
      cni: { bin_dir: settings.cniBinDir, conf_dir: settings.cniConfDir },
      containerd: {
        snapshotter: settings.snapshotter ?? 'overlayfs',
        default_runtime_name: 'runc',
        runtimes: { runc: { runtime_type: 'io.containerd.runc.v2' } },
      },
      registry: { config_path: settings.registryConfigPath },
    },
  };
}
