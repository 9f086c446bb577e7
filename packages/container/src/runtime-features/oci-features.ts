import { z } from 'zod';

/**
 * The part of an OCI runtime's `features` document crikit reads (runtime-spec features.md:
 * https://github.com/opencontainers/runtime-spec/blob/main/features.md). Every other key is ignored.
 */
const featuresSchema = z.object({
  mountOptions: z.array(z.string()).nullish(),
  linux: z.object({
    namespaces: z.array(z.string()).nullish(),
    mountExtensions: z.object({
      idmap: z.object({ enabled: z.boolean().nullish() }).nullish(),
    }).nullish(),
  }).nullish(),
});

/** What a runtime binary says it supports, from its `features` output. */
export interface OciRuntimeFeatures {
  /** `rro` is among `mountOptions`: recursive read-only bind mounts. */
  readonly recursiveReadOnlyMounts: boolean;
  /** `linux.mountExtensions.idmap.enabled`: idmapped mounts. */
  readonly idmapMounts: boolean;
  /** `user` is among `linux.namespaces`. */
  readonly userNamespace: boolean;
  /** Idmapped mounts also work in a container joining another pid namespace; unset (a features document): as `idmapMounts`. */
  readonly idmapMountsJoiningPid?: boolean;
}

/**
 * Reads the JSON a runtime's `features` subcommand prints.
 * @throws Error when the text is not JSON or not a features document (the caller reports it)
 */
export function parseOciFeatures(text: string): OciRuntimeFeatures {
  const doc = featuresSchema.parse(JSON.parse(text));
  return {
    recursiveReadOnlyMounts: doc.mountOptions?.includes('rro') ?? false,
    idmapMounts: doc.linux?.mountExtensions?.idmap?.enabled === true,
    userNamespace: doc.linux?.namespaces?.includes('user') ?? false,
  };
}

/** What the kernel allows, independent of the runtime binary. */
export interface KernelFeatures {
  /** `uname -r`. */
  readonly release: string;
  /** Kernel ≥ 5.12 has mount_setattr(2), which `rro` needs (containerd checks the same version). */
  readonly recursiveReadOnlyMounts: boolean;
  /** /proc/sys/user/max_user_namespaces > 0, and kernel.unprivileged_userns_clone is not 0 where it exists. */
  readonly userNamespaces: boolean;
}

/** Whether a kernel release string (`6.1.0-18-amd64`) is at least `major.minor`. */
export function kernelAtLeast(release: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > major || (maj === major && min >= minor);
}

/**
 * What a handler can do as far as the runtime and kernel go (containerd 2.x's introspection):
 * recursive read-only mounts need `rro` and kernel ≥ 5.12; user namespaces need the `user`
 * namespace and a kernel that allows user namespaces. Idmapped mounts are not needed for them: a
 * runtime without (runc 1.1) gets a remapped (chowned) rootfs, as containerd 1.7 gives it; a runtime
 * with them can also honour CRI mounts carrying uid/gid mappings. Without a features document
 * (`undefined`), nothing.
 */
export function detectedHandlerFeatures(runtime: OciRuntimeFeatures | undefined, kernel: KernelFeatures): {
  recursiveReadOnlyMounts: boolean; userNamespaces: boolean;
} {
  return {
    recursiveReadOnlyMounts: (runtime?.recursiveReadOnlyMounts ?? false) && kernel.recursiveReadOnlyMounts,
    userNamespaces: (runtime?.userNamespace ?? false) && kernel.userNamespaces,
  };
}

/** Whether a handler's runtime can make idmapped bind mounts: it declares them and the kernel has user namespaces. */
export function detectedIdmapMounts(runtime: OciRuntimeFeatures | undefined, kernel: KernelFeatures): boolean {
  return (runtime?.idmapMounts ?? false) && (runtime?.userNamespace ?? false) && kernel.userNamespaces && kernel.recursiveReadOnlyMounts;
}
