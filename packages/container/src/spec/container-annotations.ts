import type { cri } from '@crikit/api';
import { passthroughAnnotations, type SandboxId } from '@crikit/core';

/** What `containerAnnotations` needs. */
export interface AnnotationContext {
  readonly sandboxId: SandboxId;
  readonly sandboxConfig: cri.PodSandboxConfig;
  /** The image name the container was created from (its first reference, else its id). */
  readonly imageName: string;
  /** The runtime handler's `podAnnotations` patterns: the pod annotations allowed into the spec. */
  readonly podAnnotationPatterns?: readonly string[] | undefined;
  /** The runtime handler's `containerAnnotations` patterns: the container annotations allowed into the spec. */
  readonly containerAnnotationPatterns?: readonly string[] | undefined;
}

/** runc reads these as systemd unit properties of the container's scope; a pod must not set them. */
const RUNTIME_INTERPRETED_PREFIXES = ['org.systemd.property.'];

/**
 * The spec annotations of a container, as containerd's `containerSpec`: the pod's annotations the
 * runtime handler allows (`podAnnotations`), then the container's it allows
 * (`containerAnnotations`), none by default and never those runc would interpret
 * (`org.systemd.property.*`), then the ones the CRI defines, which win on a clash:
 * container-type=container, sandbox-id, sandbox-name, sandbox-namespace, sandbox-uid,
 * container-name and image-name (containerd: `DefaultCRIAnnotations`).
 */
export function containerAnnotations(config: cri.ContainerConfig, context: AnnotationContext): Record<string, string> {
  const allowed = {
    ...passthroughAnnotations(context.sandboxConfig.annotations, context.podAnnotationPatterns ?? []),
    ...passthroughAnnotations(config.annotations, context.containerAnnotationPatterns ?? []),
  };
  const passed = Object.entries(allowed).filter(([key]) => !RUNTIME_INTERPRETED_PREFIXES.some(p => key.startsWith(p)));
  const meta = context.sandboxConfig.metadata;
  return {
    ...Object.fromEntries(passed),
    'io.kubernetes.cri.container-type': 'container',
    'io.kubernetes.cri.sandbox-id': context.sandboxId,
    'io.kubernetes.cri.sandbox-name': meta?.name ?? '',
    'io.kubernetes.cri.sandbox-namespace': meta?.namespace ?? '',
    'io.kubernetes.cri.sandbox-uid': meta?.uid ?? '',
    'io.kubernetes.cri.container-name': config.metadata?.name ?? '',
    'io.kubernetes.cri.image-name': context.imageName,
  };
}
