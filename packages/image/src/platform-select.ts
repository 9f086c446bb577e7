/**
 * Picks the manifest of an index that runs on this node, as containerd's `platforms.Default()`
 * (`platforms.Only(DefaultSpec())`) does:
 *
 *   linux/arm64     matches arm64 with variant v8 or none, then arm/v8, arm/v7, arm/v6, arm/v5
 *   linux/arm/v7    matches arm/v7 (or arm with no variant), then arm/v6, arm/v5
 *   linux/amd64     matches amd64, then 386
 *
 * Earlier entries of that list win; among equals the index order decides. Entries without a
 * platform are taken only when nothing else matches.
 */
import { endianness } from 'node:os';
import { NotFoundError } from '@crikit/core';
import { isManifestMediaType, type Descriptor, type ImageIndex, type Platform } from './image-manifest.js';

/** Node's `process.arch` → the GOARCH names OCI platforms use. */
const ARCH_FROM_NODE: Readonly<Record<string, string>> = {
  x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x', s390: 's390', riscv64: 'riscv64',
  loong64: 'loong64', mips: 'mips', mipsel: 'mipsle', ppc: 'ppc',
};

/**
 * The platform of this process as an OCI platform: `linux/amd64`, `linux/arm64/v8`, `linux/arm/v7`
 * (the ARM version Node was built for, v7 when unknown).
 */
export function hostPlatform(arch: string = process.arch, os: string = process.platform): Platform {
  let architecture = ARCH_FROM_NODE[arch] ?? arch;
  if (arch === 'ppc64') architecture = endianness() === 'LE' ? 'ppc64le' : 'ppc64';
  if (arch === 'mips64el') architecture = 'mips64le';
  if (architecture === 'arm64') return { os, architecture, variant: 'v8' };
  if (architecture === 'arm') {
    const version = (process.config.variables as Record<string, unknown>)['arm_version'];
    const variant = typeof version === 'string' && /^[5-8]$/.test(version) ? `v${version}` : 'v7';
    return { os, architecture, variant };
  }
  return { os, architecture };
}

/**
 * Normalises spellings as containerd does: `x86_64` → `amd64`, `aarch64` → `arm64`, arm64 without
 * variant → `v8`, arm without variant → `v7`, `armhf` → arm/v7, amd64/v1 → amd64. Pure.
 */
export function normalizePlatform(platform: Platform): Platform {
  const os = platform.os.toLowerCase() === 'macos' ? 'darwin' : platform.os.toLowerCase();
  let architecture = platform.architecture.toLowerCase();
  let variant = (platform.variant ?? '').toLowerCase();
  switch (architecture) {
    case 'i386': architecture = '386'; variant = ''; break;
    case 'x86_64': case 'x86-64': case 'amd64':
      architecture = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64': case 'arm64':
      architecture = 'arm64';
      if (variant === '' || variant === '8') variant = 'v8';
      break;
    case 'armhf': architecture = 'arm'; variant = 'v7'; break;
    case 'armel': architecture = 'arm'; variant = 'v6'; break;
    case 'arm':
      if (variant === '' || variant === '7') variant = 'v7';
      else if (/^[568]$/.test(variant)) variant = `v${variant}`;
      break;
  }
  return variant === '' ? { os, architecture } : { os, architecture, variant };
}

/** `os/architecture[/variant]`, the usual way to write a platform. */
export function formatPlatform(platform: Platform): string {
  const { os, architecture, variant } = platform;
  return variant !== undefined && variant !== '' ? `${os}/${architecture}/${variant}` : `${os}/${architecture}`;
}

/**
 * The platforms `platform` can run, best first (containerd's platformVector), each normalised.
 * Pure. E.g. linux/arm64 → [linux/arm64/v8, linux/arm/v8, linux/arm/v7, linux/arm/v6, linux/arm/v5].
 */
export function compatiblePlatforms(platform: Platform): Platform[] {
  const p = normalizePlatform(platform);
  const vector: Platform[] = [p];
  const version = Number.parseInt((p.variant ?? '').replace(/^v/, ''), 10);
  switch (p.architecture) {
    case 'amd64':
      for (let v = Number.isNaN(version) ? 0 : version - 1; v >= 1; v--) {
        vector.push(normalizePlatform({ os: p.os, architecture: 'amd64', variant: `v${v}` }));
      }
      vector.push({ os: p.os, architecture: '386' });
      break;
    case 'arm':
      for (let v = Number.isNaN(version) ? 0 : version - 1; v >= 5; v--) vector.push({ os: p.os, architecture: 'arm', variant: `v${v}` });
      break;
    case 'arm64':
      vector.push(...compatiblePlatforms({ os: p.os, architecture: 'arm', variant: p.variant ?? 'v8' }));
      break;
  }
  return vector;
}

/** True when `candidate` is `wanted` once both are normalised (os, architecture and variant). */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  const a = normalizePlatform(wanted);
  const b = normalizePlatform(candidate);
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? '') === (b.variant ?? '');
}

/**
 * Picks the manifest of `index` for `platform` (this node's by default). Only image manifests are
 * candidates; nested indexes and other artifacts are skipped. Pure.
 * @param reference the image, for the error message
 * @throws NotFoundError naming the wanted platform and the platforms the index lists
 */
export function selectPlatformManifest(reference: string, index: Pick<ImageIndex, 'manifests'>, platform: Platform = hostPlatform()): Descriptor {
  const vector = compatiblePlatforms(platform);
  let best: Descriptor | undefined;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const desc of index.manifests) {
    if (!isManifestMediaType(desc.mediaType)) continue;
    // containerd sorts entries without a platform last; they may still be the only choice.
    const rank = desc.platform === undefined
      ? vector.length
      : vector.findIndex(p => platformMatches(p, desc.platform!));
    if (rank !== -1 && rank < bestRank) {
      best = desc;
      bestRank = rank;
    }
  }
  if (best !== undefined) return best;
  const listed = index.manifests.map(d => (d.platform !== undefined ? formatPlatform(d.platform) : `(no platform, ${d.mediaType})`));
  const has = listed.length > 0 ? `the index lists ${[...new Set(listed)].join(', ')}` : 'the index is empty';
  throw new NotFoundError(`image "${reference}" has no manifest for platform ${formatPlatform(normalizePlatform(platform))}: ${has}`);
}
