import { z } from 'zod';

/** Where crikit keeps its own files: persistent (`rootDir`) and per-boot (`stateDir`). */
export const pathsConfigSchema = z.strictObject({
  /** Per-sandbox resolv.conf, hostname, hosts; CNI result cache. */
  rootDir: z.string().startsWith('/', 'must be an absolute path').default('/var/lib/crikit')
    .describe('persistent files: per-sandbox resolv.conf, hostname, hosts; CNI result cache'),
  /** FIFOs, pinned netns, shm mounts; the default socket lives here too. */
  stateDir: z.string().startsWith('/', 'must be an absolute path').default('/run/crikit')
    .describe('per-boot files: FIFOs, pinned netns, shm mounts'),
});
export type PathsConfig = z.infer<typeof pathsConfigSchema>;
export const PathsConfig = Symbol('PathsConfig');
