import type { ImageFormat } from './media-types.js';
import { buildImage, type BuiltImage } from './oci-image.js';
import { buildLayer } from './oci-layer.js';
import { loadStaticBinary } from './static-binary.js';

/** Options for `pauseImage`. */
export interface PauseImageOptions {
  /** `oci` by default. */
  readonly format?: ImageFormat;
  /** Architecture written in the config; the host binary's by default. */
  readonly architecture?: string;
  /** The static catatonit to copy; `/usr/bin/catatonit` (Debian's catatonit) by default. */
  readonly catatonitPath?: string;
}

/**
 * Builds a sandbox (pause) image: `/pause` is the host's static catatonit, run as `/pause -P`
 * (catatonit's pause mode: sleep until signalled, reap nothing) by user `65535:65535`, as
 * registry.k8s.io/pause does. Deterministic for the same host binary.
 * @throws Error saying to install catatonit when `/usr/bin/catatonit` is missing or dynamically linked
 */
export async function pauseImage(options: PauseImageOptions = {}): Promise<BuiltImage> {
  const path = options.catatonitPath ?? '/usr/bin/catatonit';
  const catatonit = await loadStaticBinary(path, 'catatonit');
  const layer = await buildLayer([{ type: 'file', path: 'pause', data: catatonit.data, mode: 0o755 }],
    { createdBy: `testkit: /pause from ${path}` });
  return buildImage({
    layers: [layer],
    architecture: options.architecture ?? catatonit.architecture,
    format: options.format ?? 'oci',
    entrypoint: ['/pause', '-P'],
    user: '65535:65535',
  });
}
