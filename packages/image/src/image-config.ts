import { isAbsolute } from 'node:path';
import { z } from 'zod';

/**
 * The `image` slice of crikit's config: where registry host configs live and how pulls behave.
 * Every key has a default, so `imageConfigSchema.parse({})` is a working config. Unknown keys are
 * refused, so a misspelt key is reported instead of ignored. The pause image is the sandbox's key.
 */
export const imageConfigSchema = z.strictObject({
  registryConfigDir: z.string()
    .refine(isAbsolute, { message: 'must be an absolute path' })
    .default('/etc/crikit/certs.d')
    .describe('Directory of registry host configs in containerd\'s layout: `<dir>/<host[:port]>/hosts.toml` ' +
      '(mirrors, capabilities, `ca`, `skip_verify`, `header`), with `_default` for every other host; ' +
      'read on every pull, so edits need no restart. A host without config is reached over https.'),
  maxConcurrentDownloads: z.number().int().positive().default(3)
    .describe('How many layers one pull downloads at the same time.'),
  snapshotter: z.string().min(1).default('overlayfs')
    .describe('The containerd snapshotter images are unpacked with and container root filesystems are prepared on.'),
  pullStallTimeoutMs: z.number().int().positive().default(60_000)
    .describe('A blob download that receives no byte for this long is abandoned and its pull fails ' +
      '(containerd\'s `image_pull_progress_timeout`).'),
});

/** The parsed `image` config slice, every key present. */
export type ImageConfig = z.infer<typeof imageConfigSchema>;
/** DI token of the `image` config slice; the server binds it to `config.image`. */
export const ImageConfig = Symbol('ImageConfig');
