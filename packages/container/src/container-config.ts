import { z } from 'zod';

/** How containers are made and run, beyond what each CRI request says. */
export const containerConfigSchema = z.strictObject({
  seccompDefault: z.boolean().default(false)
    .describe('treat an unset seccomp profile as RuntimeDefault (the kubelet\'s SeccompDefault); otherwise Unconfined, as containerd'),
  seccompProfileRoot: z.string().startsWith('/', 'must be an absolute path').default('/var/lib/kubelet/seccomp')
    .describe('where relative Localhost seccomp profiles are looked up'),
  execSyncMaxOutputBytes: z.number().int().positive().default(16 << 20)
    .describe('ExecSync keeps at most this many bytes of each of stdout and stderr (containerd\'s limit)'),
  deviceOwnershipFromSecurityContext: z.boolean().default(false)
    .describe('give devices the uid/gid of run_as_user/run_as_group (containerd\'s device_ownership_from_security_context)'),
  cdiSpecDirs: z.array(z.string().startsWith('/', 'must be an absolute path')).default(['/etc/cdi', '/var/run/cdi'])
    .describe('directories of CDI specs (*.json, *.yaml) for CDI_devices and cdi.k8s.io/ annotations, a later one winning over an earlier one; read at each CreateContainer that asks for a CDI device (containerd\'s cdi_spec_dirs)'),
});
export type ContainerConfig = z.infer<typeof containerConfigSchema>;
export const ContainerConfig = Symbol('ContainerConfig');
