import { deadline } from '@crikit/core';
import type { FeatureSources } from './feature-sources.js';
import type { OciRuntimeFeatures } from './oci-features.js';
import type { RuntimeProbeResult } from './runtime-probe.js';

/** A runtime binary as its `--version` names it. */
export interface RuntimeIdentity {
  /** Only crun is recognised: runc has had `features` since 1.1, and older runc gets nothing (as in containerd 2.x). */
  readonly name: 'crun';
  readonly version: readonly [major: number, minor: number, patch: number];
  /** `crun 1.8.1`, for the log and verbose Status. */
  readonly text: string;
}

/**
 * Reads `<binary> --version`: crun prints `crun version 1.8.1` first, then its commit, rundir,
 * `spec: 1.0.0` and a `+SYSTEMD +SELINUX … +SECCOMP …` line. Anything else is not recognised.
 */
export function identifyRuntime(versionText: string): RuntimeIdentity | undefined {
  const m = /^crun version (\d+)\.(\d+)(?:\.(\d+))?\b/m.exec(versionText);
  if (!m) return undefined;
  const version = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] as const;
  return { name: 'crun', version, text: `crun ${version.join('.')}` };
}

const atLeast = (v: readonly number[], want: readonly number[]): boolean => {
  for (let i = 0; i < want.length; i++) {
    if ((v[i] ?? 0) !== want[i]) return (v[i] ?? 0) > want[i]!;
  }
  return true;
};

/**
 * The crun releases that brought each feature, from crun's NEWS
 * (https://github.com/containers/crun/blob/main/NEWS):
 * - 1.4: recursive mount options (`rro`) and idmapped bind mounts;
 * - 1.8.1: idmapped mounts take the same mappings as the user namespace (before, the inverse), as
 *   runc and the runtime-spec's mount `uidMappings`/`gidMappings` do: crikit's CRI mounts need that;
 * - 1.8.6: the `features` subcommand (from then on crun describes itself, and this table is not used),
 *   and idmapped mounts in a container that joins an existing pid namespace (before, crun 1.8.1's
 *   mount_setattr failed EPERM there: a pod sharing its pid namespace).
 * User namespaces predate crun 1.0.
 */
export const CRUN_FEATURE_RELEASES = Object.freeze({
  recursiveReadOnlyMounts: [1, 4, 0],
  idmapMounts: [1, 8, 1],
  idmapMountsJoiningPid: [1, 8, 6],
  featuresCommand: [1, 8, 6],
} as const);

/**
 * What a crun release implements, as the features document it would print. This is only what the
 * release should do: `RuntimeProbe` then checks each feature on this host before Status reports it.
 */
export function versionFeatures(runtime: RuntimeIdentity): OciRuntimeFeatures {
  return {
    recursiveReadOnlyMounts: atLeast(runtime.version, CRUN_FEATURE_RELEASES.recursiveReadOnlyMounts),
    idmapMounts: atLeast(runtime.version, CRUN_FEATURE_RELEASES.idmapMounts),
    idmapMountsJoiningPid: atLeast(runtime.version, CRUN_FEATURE_RELEASES.idmapMountsJoiningPid),
    userNamespace: true,
  };
}

/** What was found for a binary without a `features` subcommand. */
export interface DerivedFeatures {
  /** `crun 1.8.1`, when `--version` names a runtime crikit knows. */
  readonly identity?: string;
  /** What that release implements (`versionFeatures`). */
  readonly release?: OciRuntimeFeatures;
  /** What the probe saw work on this host. */
  readonly probe?: RuntimeProbeResult;
  /** A feature counts where the release has it AND the probe saw it work; undefined when nothing was derived. */
  readonly runtime?: OciRuntimeFeatures;
  /** Why nothing was derived: `--version` failed or names an unknown runtime, or the probe could not run. */
  readonly error?: string;
}

const versionTimeoutMs = 5_000;
const probeTimeoutMs = 20_000;

/**
 * Features of a runtime binary that has no `features` subcommand (crun before 1.8.6): `--version`
 * names the release, the release table says what it implements, and a real run (`probeRuntime`)
 * confirms each feature on this host. The table alone would advertise what a kernel, file system or
 * packaging may still break; the probe alone would also accept a release whose behaviour differs
 * from what crikit asks (crun before 1.8.1 inverted idmapped mount mappings). Never rejects.
 */
export async function deriveFeatures(binary: string, sources: FeatureSources): Promise<DerivedFeatures> {
  let text: string;
  const limit = deadline([], versionTimeoutMs);
  try {
    text = await sources.runtimeVersion(binary, limit.signal);
  } catch (err) {
    return { error: limit.signal.aborted ? `${binary} --version: no answer within ${versionTimeoutMs} ms` : (err as Error).message };
  } finally {
    limit.dispose();
  }
  const runtime = identifyRuntime(text);
  if (!runtime) {
    const first = text.trim().split('\n')[0] ?? '';
    return { error: `${binary} --version says "${first}": not a runtime whose features crikit knows without a features subcommand` };
  }
  const release = versionFeatures(runtime);
  const probeLimit = deadline([], probeTimeoutMs);
  try {
    const probe = await sources.probeRuntime(binary, probeLimit.signal);
    return {
      identity: runtime.text, release, probe,
      runtime: {
        recursiveReadOnlyMounts: release.recursiveReadOnlyMounts && probe.recursiveReadOnlyMounts,
        idmapMounts: release.idmapMounts && probe.idmapMounts,
        idmapMountsJoiningPid: (release.idmapMountsJoiningPid ?? release.idmapMounts) && probe.idmapMounts,
        userNamespace: release.userNamespace && probe.userNamespace,
      },
    };
  } catch (err) {
    const why = probeLimit.signal.aborted ? `no answer within ${probeTimeoutMs} ms` : (err as Error).message;
    return { identity: runtime.text, release, error: `probe of ${runtime.text} (${binary}): ${why}` };
  } finally {
    probeLimit.dispose();
  }
}
