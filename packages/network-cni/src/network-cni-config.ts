import { z } from 'zod';

/** Where CNI network configs and plugin binaries are found, and how plugins are run. */
export const networkCniConfigSchema = z.object({
  /** Network configs (`.conflist`, `.conf`, `.json`); the first valid one in lexical order is the default network. */
  confDir: z.string().startsWith('/', 'must be an absolute path').default('/etc/cni/net.d'),
  /** Directories searched in order for plugin binaries (Debian ships them in /usr/lib/cni). */
  binDirs: z.array(z.string().startsWith('/', 'must be an absolute path')).min(1).default(['/opt/cni/bin', '/usr/lib/cni']),
  /** How many config files to load at most (containerd's max_conf_num). */
  maxConfNum: z.number().int().positive().default(1),
  /** A plugin exec taking longer is killed. */
  pluginTimeoutMs: z.number().int().positive().default(60_000),
  /** A conflist template filled with the pod CIDR on UpdateRuntimeConfig, as containerd's conf_template. */
  confTemplate: z.string().default(''),
});
export type NetworkCniConfig = z.infer<typeof networkCniConfigSchema>;
export const NetworkCniConfig = Symbol('NetworkCniConfig');
