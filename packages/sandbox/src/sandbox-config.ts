import { z } from 'zod';

/** How pod sandboxes are made: the pause image and the per-pod files and mounts. */
export const sandboxConfigSchema = z.strictObject({
  sandboxImage: z.string().min(1).default('registry.k8s.io/pause:3.10')
    .describe('the image of every pod\'s pause container; pulled when missing and pinned'),
  shmSizeBytes: z.number().int().positive().default(64 << 20)
    .describe('size of the /dev/shm tmpfs each pod gets (unless it shares the host IPC namespace)'),
  seccompDefault: z.boolean().default(false)
    .describe('give the pause container of a pod that asks no seccomp profile RuntimeDefault; otherwise Unconfined, as containerd (kubelets always ask one)'),
  enableUnprivilegedPorts: z.boolean().default(false)
    .describe('let unprivileged processes bind ports below 1024 (sysctl net.ipv4.ip_unprivileged_port_start=0) in pods without host network'),
  enableUnprivilegedIcmp: z.boolean().default(false)
    .describe('let unprivileged processes ping (sysctl net.ipv4.ping_group_range="0 2147483647") in pods without host network'),
});
export type SandboxConfig = z.infer<typeof sandboxConfigSchema>;
export const SandboxConfig = Symbol('SandboxConfig');
