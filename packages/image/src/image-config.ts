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
  directContentWrite: z.boolean().default(true)
    .describe('Write downloaded blobs into containerd\'s content store directory (verified, then linked in) instead ' +
      'of streaming them through containerd\'s content API, which is several times slower. Needs the directory: ' +
      'known with the managed containerd, `contentDir` otherwise; without it blobs go through the API.'),
  contentDir: z.string().refine(isAbsolute, { message: 'must be an absolute path' }).optional()
    .describe('The content store directory of an external containerd, `<containerd root>/io.containerd.content.v1.content`, ' +
      'writable by crikit, for `directContentWrite`; with the managed containerd it is found from its root.'),
  pullStallTimeoutMs: z.number().int().positive().default(60_000)
    .describe('A blob download that receives no byte for this long is abandoned and its pull fails ' +
      '(containerd\'s `image_pull_progress_timeout`).'),
});

/** The parsed `image` config slice, every key present. */
export type ImageConfig = z.infer<typeof imageConfigSchema>;
/** DI token of the `image` config slice; the server binds it to `config.image`. */
export const ImageConfig = Symbol('ImageConfig');

/**
 * DI token of containerd's content store directory when blobs are written into it directly (see
 * DirectBlobWriter); unbound when they go through containerd's content API. The server binds it.
 */
export const ContentStoreDir = Symbol('ContentStoreDir');
