import type { ImageFormat } from './media-types.js';
import { buildImage, type BuiltImage, type ImageRuntimeConfig } from './oci-image.js';
import { buildLayer, type BuiltLayer } from './oci-layer.js';
import { loadStaticBinary } from './static-binary.js';
import type { TarEntry } from './tar-writer.js';

/** Applets linked to `/bin/busybox` in the busybox fixture image. */
export const BUSYBOX_APPLETS: readonly string[] = [
  'sh', 'ls', 'cat', 'echo', 'sleep', 'wget', 'ping', 'id', 'env', 'top', 'ip', 'hostname', 'nslookup', 'nc',
  'dd', 'head', 'true', 'false', 'mount', 'grep', 'ps', 'touch', 'mkdir', 'rm', 'stat', 'tail', 'test',
  'httpd', 'kill', 'sed', 'wc', 'printf', 'cp', 'mv', 'ln', 'chmod', 'df', 'du', 'find', 'uname', 'whoami',
];

/** `PATH` set in the config of the fixture images, as Docker's official images set it. */
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Options for `busyboxImage`; runtime config fields replace the defaults (`Cmd ["/bin/sh"]`). */
export interface BusyboxImageOptions extends ImageRuntimeConfig {
  /** Entries added to the base layer after the standard ones (a file with the same path replaces it). */
  readonly extraFiles?: readonly TarEntry[];
  /** Layers stacked above the base layer, bottom first. */
  readonly extraLayers?: readonly (readonly TarEntry[])[];
  /** Architecture written in the config; the host binary's by default. Only the config changes. */
  readonly architecture?: string;
  readonly variant?: string;
  /** `oci` by default. */
  readonly format?: ImageFormat;
  /** How applets point at `/bin/busybox`: hard links (as Docker's busybox image) by default. */
  readonly appletLinks?: 'hardlink' | 'symlink';
  /** The static busybox to copy; `/bin/busybox` (Debian's busybox-static) by default. */
  readonly busyboxPath?: string;
}

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'nobody:x:65534:65534:nobody:/home:/bin/false',
  'app:x:1000:1000:app:/home/app:/bin/sh',
].join('\n') + '\n';

const GROUP = ['root:x:0:', 'app:x:1000:', 'extra:x:2000:app', 'nogroup:x:65534:'].join('\n') + '\n';

/** Base layers already built, keyed by binary path and link kind: gzip of 2 MB is worth sharing. */
const baseLayers = new Map<string, Promise<{ layer: BuiltLayer; architecture: string }>>();

/**
 * Builds a small image around the host's static busybox: applets in `/bin`, `/etc/passwd` and
 * `/etc/group` with users root, nobody and app (1000), the usual top-level directories, `Cmd ["/bin/sh"]`.
 * Deterministic for the same options and host binary.
 * @throws Error saying to install busybox-static when `/bin/busybox` is missing or dynamically linked
 */
export async function busyboxImage(options: BusyboxImageOptions = {}): Promise<BuiltImage> {
  const busyboxPath = options.busyboxPath ?? '/bin/busybox';
  const links = options.appletLinks ?? 'hardlink';
  let base: { layer: BuiltLayer; architecture: string };
  if (options.extraFiles === undefined || options.extraFiles.length === 0) {
    const key = `${busyboxPath}\0${links}`;
    let cached = baseLayers.get(key);
    if (cached === undefined) {
      cached = buildBase(busyboxPath, links, []);
      baseLayers.set(key, cached);
      // A failed build (busybox missing) must not stay cached: the next call should look again.
      cached.catch(() => baseLayers.delete(key));
    }
    base = await cached;
  } else {
    base = await buildBase(busyboxPath, links, options.extraFiles);
  }
  return buildImage({
    layers: [base.layer, ...await Promise.all((options.extraLayers ?? []).map((entries, i) =>
      buildLayer(entries, { createdBy: `testkit: busybox extra layer ${i + 1}` })))],
    architecture: options.architecture ?? base.architecture,
    ...(options.variant !== undefined ? { variant: options.variant } : {}),
    format: options.format ?? 'oci',
    entrypoint: options.entrypoint,
    cmd: options.cmd ?? ['/bin/sh'],
    env: mergeEnv([DEFAULT_PATH_ENV], options.env ?? []),
    workingDir: options.workingDir,
    user: options.user,
    stopSignal: options.stopSignal,
    labels: options.labels,
    exposedPorts: options.exposedPorts,
    volumes: options.volumes,
  });
}

async function buildBase(
  busyboxPath: string,
  links: 'hardlink' | 'symlink',
  extraFiles: readonly TarEntry[],
): Promise<{ layer: BuiltLayer; architecture: string }> {
  const busybox = await loadStaticBinary(busyboxPath, 'busybox-static');
  const entries: TarEntry[] = [
    { type: 'directory', path: 'bin' },
    { type: 'file', path: 'bin/busybox', data: busybox.data, mode: 0o755 },
    ...BUSYBOX_APPLETS.map((applet): TarEntry => links === 'hardlink'
      ? { type: 'hardlink', path: `bin/${applet}`, target: 'bin/busybox', mode: 0o755 }
      : { type: 'symlink', path: `bin/${applet}`, target: 'busybox' }),
    { type: 'directory', path: 'dev' },
    { type: 'directory', path: 'etc' },
    { type: 'file', path: 'etc/passwd', data: PASSWD },
    { type: 'file', path: 'etc/group', data: GROUP },
    { type: 'directory', path: 'home' },
    { type: 'directory', path: 'home/app', uid: 1000, gid: 1000 },
    { type: 'directory', path: 'proc', mode: 0o555 },
    { type: 'directory', path: 'root', mode: 0o700 },
    { type: 'directory', path: 'sys', mode: 0o555 },
    // Sticky and world-writable, like /tmp on any Linux system.
    { type: 'directory', path: 'tmp', mode: 0o1777 },
    { type: 'directory', path: 'var' },
    ...extraFiles,
  ];
  return {
    layer: await buildLayer(entries, { createdBy: `testkit: busybox rootfs from ${busyboxPath}` }),
    architecture: busybox.architecture,
  };
}

/** Appends `extra` to `base`, where a `KEY=` in `extra` replaces the same key from `base`. */
function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const keyOf = (kv: string): string => kv.split('=', 1)[0]!;
  const overridden = new Set(extra.map(keyOf));
  return [...base.filter(kv => !overridden.has(keyOf(kv))), ...extra];
}
