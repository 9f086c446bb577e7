import { z } from 'zod';

/** How container cgroups are named and managed on this node. */
export const cgroupConfigSchema = z.strictObject({
  /** Must match the kubelet's `cgroupDriver`. */
  driver: z.enum(['cgroupfs', 'systemd']).default('cgroupfs')
    .describe("cgroup driver; must match the kubelet's cgroupDriver"),
});
export type CgroupConfig = z.infer<typeof cgroupConfigSchema>;
export const CgroupConfig = Symbol('CgroupConfig');
