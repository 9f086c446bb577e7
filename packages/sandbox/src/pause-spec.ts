import type { Any, cri } from '@crikit/api';
import { type ImageRecord, type PodUserNamespace, type SandboxId, type SandboxPaths } from '@crikit/core';
import { loadLocalhostSeccompProfile, localhostProfilePath, profileChoice, toSpecAny } from '@crikit/oci';
import { buildSandboxSpec } from './sandbox-spec.js';
import { enterPodUserNamespace, NETNS_MADE_BY_PAUSE } from './sandbox-userns.js';

/** Node-wide settings the pause spec needs. */
export interface PauseSpecSettings {
  readonly cgroupDriver: 'cgroupfs' | 'systemd';
  readonly restrictOomScoreAdj: boolean;
  readonly ownOomScoreAdj: number;
  readonly unprivilegedPorts: boolean;
  readonly unprivilegedIcmp: boolean;
  readonly containerdNamespace: string;
  /** A pod that asks no seccomp profile gets RuntimeDefault for its pause (`sandbox.seccompDefault`). */
  readonly runtimeDefaultSeccomp: boolean;
}

/**
 * The OCI spec of a sandbox's pause container, packed for containerd. Reads the Localhost seccomp
 * profile when the pod asks for one; the rest is core's pure `buildSandboxSpec`, then the pod's user
 * namespace if it has one.
 * @throws InvalidArgumentError for a bad profile or user
 */
export async function pauseSpec(input: {
  id: SandboxId; config: cri.PodSandboxConfig; image: ImageRecord; imageName: string;
  files: SandboxPaths; netnsPath: string | undefined; settings: PauseSpecSettings;
  /** The runtime handler's allow-list of pod annotations for the spec. */
  podAnnotationPatterns: readonly string[];
  /** The pod's user namespace: the pause makes it, and its netns inside it (sandbox-userns.ts). */
  userns?: PodUserNamespace | undefined;
}): Promise<Any> {
  const sc = input.config.linux?.securityContext;
  const choice = profileChoice(sc?.seccomp, sc?.seccompProfilePath ?? '');
  const localhostSeccomp = choice?.type === 'localhost' ? await loadLocalhostSeccompProfile(localhostProfilePath(choice.ref)) : undefined;
  const s = input.settings;
  const spec = buildSandboxSpec({
    id: input.id,
    config: input.config,
    image: { name: input.imageName, config: input.image.metadata.spec },
    netnsPath: input.userns ? NETNS_MADE_BY_PAUSE : input.netnsPath,
    shmPath: input.files.shm,
    // The pause image runs as a numeric user; a user name would need its /etc/passwd, which it has not.
    userDb: { passwd: undefined, group: undefined },
    localhostSeccomp,
    podAnnotationPatterns: input.podAnnotationPatterns,
    options: {
      cgroupDriver: s.cgroupDriver, restrictOomScoreAdj: s.restrictOomScoreAdj, ownOomScoreAdj: s.ownOomScoreAdj,
      unprivilegedPorts: s.unprivilegedPorts, unprivilegedIcmp: s.unprivilegedIcmp, containerdNamespace: s.containerdNamespace,
      runtimeDefaultSeccomp: s.runtimeDefaultSeccomp,
    },
  });
  if (input.userns) enterPodUserNamespace(spec, input.userns);
  return toSpecAny(spec);
}
