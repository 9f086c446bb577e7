import { z } from 'zod';

/** Where CNI network configs and plugin binaries are found, and how plugins are run. */
export const networkCniConfigSchema = z.strictObject({
  /** Network configs (`.conflist`, `.conf`, `.json`); the first valid one in lexical order is the default network. */
  confDir: z.string().startsWith('/', 'must be an absolute path').default('/etc/cni/net.d')
    .describe('CNI network configs (.conflist, .conf, .json); the first valid one in lexical order is the default network'),
  /** Directories searched in order for plugin binaries (Debian ships them in /usr/lib/cni). */
  binDirs: z.array(z.string().startsWith('/', 'must be an absolute path')).min(1).default(['/opt/cni/bin', '/usr/lib/cni'])
    .describe('directories searched in order for CNI plugin binaries'),
  /** How many config files to load at most (containerd's max_conf_num). */
  maxConfNum: z.number().int().positive().default(1)
    .describe('how many network configs to load at most'),
  /** A plugin exec taking longer is killed. */
  pluginTimeoutMs: z.number().int().positive().default(60_000)
    .describe('a CNI plugin exec taking longer is killed'),
  /** A conflist template filled with the pod CIDR on UpdateRuntimeConfig, as containerd's conf_template. */
  confTemplate: z.string().default('')
    .describe("a conflist template filled with the pod CIDR on UpdateRuntimeConfig (containerd's conf_template)"),
});
export type NetworkCniConfig = z.infer<typeof networkCniConfigSchema>;
export const NetworkCniConfig = Symbol('NetworkCniConfig');
