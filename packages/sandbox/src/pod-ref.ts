import type { cri } from '@crikit/api';
import { InvalidArgumentError, type PodBandwidth, type PodRef, type SandboxId } from '@crikit/core';

/** What the pod network needs to know about a sandbox. */
export function podRefOf(id: SandboxId, config: cri.PodSandboxConfig, netnsPath: string): PodRef {
  const meta = config.metadata!;
  return {
    id, name: meta.name, namespace: meta.namespace, uid: meta.uid, netnsPath,
    labels: config.labels, annotations: config.annotations,
    portMappings: config.portMappings,
    dns: config.dnsConfig,
    cgroupParent: config.linux?.cgroupParent ?? '',
    bandwidth: bandwidthOf(config.annotations),
  };
}

/** Traffic limits from the `kubernetes.io/ingress-bandwidth` and `egress-bandwidth` annotations. */
export function bandwidthOf(annotations: Readonly<Record<string, string>>): PodBandwidth | undefined {
  const ingress = annotations['kubernetes.io/ingress-bandwidth'];
  const egress = annotations['kubernetes.io/egress-bandwidth'];
  if (ingress === undefined && egress === undefined) return undefined;
  return {
    ingressBitsPerSecond: ingress !== undefined ? quantity(ingress, 'kubernetes.io/ingress-bandwidth') : undefined,
    egressBitsPerSecond: egress !== undefined ? quantity(egress, 'kubernetes.io/egress-bandwidth') : undefined,
  };
}

const suffixes: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };

/** A Kubernetes quantity (`10M`, `1Gi`, `500k`) as a number. */
function quantity(text: string, key: string): number {
  const m = /^(\d+(?:\.\d+)?)([a-zA-Z]*)$/.exec(text.trim());
  const factor = m ? suffixes[m[2]!] : undefined;
  if (!m || factor === undefined) throw new InvalidArgumentError(`annotation ${key}: "${text}" is not a quantity`);
  return Math.round(Number(m[1]) * factor);
}
