import { z } from 'zod';

/** Stats sampling and crikit's own Prometheus endpoint. */
export const metricsConfigSchema = z.strictObject({
  /** `host:port` of the Prometheus endpoint (`GET /metrics`); empty turns it off. */
  address: z.string().default('')
    .refine(a => a === '' || /^(\[[0-9a-fA-F:.]+\]|[^:\s]*):\d{1,5}$/.test(a), 'must be host:port, e.g. 127.0.0.1:9101')
    .describe('host:port of crikit\'s own Prometheus endpoint (GET /metrics); empty turns it off'),
  /** How long a container's or pod's cgroup sample is reused before containerd is asked again. */
  statsCacheMs: z.number().int().nonnegative().default(1_000)
    .describe('how long a container\'s or pod\'s cgroup sample is reused by the stats RPCs before it is read again'),
  /** How long a writable layer's measured usage is reused (containerd refreshes its own every 10 s). */
  writableLayerCacheMs: z.number().int().nonnegative().default(10_000)
    .describe('how long a container\'s writable layer usage (the snapshotter\'s Usage) is reused before it is measured again'),
});
export type MetricsConfig = z.infer<typeof metricsConfigSchema>;
export const MetricsConfig = Symbol('MetricsConfig');

/** Where the host's kernel files are; a test points these at a fake tree. */
export interface HostPaths {
  /** The cgroup filesystem (`/sys/fs/cgroup`): per-controller dirs on cgroup v1, the unified tree on v2. */
  readonly cgroupRoot: string;
  /** procfs (`/proc`), for `/proc/<pid>/net/dev`. */
  readonly procRoot: string;
}
export const HostPaths = Symbol('HostPaths');

/** The real host's paths. */
export const defaultHostPaths: HostPaths = Object.freeze({ cgroupRoot: '/sys/fs/cgroup', procRoot: '/proc' });
