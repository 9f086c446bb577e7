import { cri } from '@crikit/api';
import { InvalidArgumentError, type PodRef } from '@crikit/core';

/** What the plugins learn about a pod: CNI_ARGS and the capability args (`runtimeConfig`). */
export interface PodCniArgs {
  /** `IgnoreUnknown=1;K8S_POD_NAMESPACE=…;K8S_POD_NAME=…;K8S_POD_INFRA_CONTAINER_ID=…;K8S_POD_UID=…` */
  readonly args: string;
  /** Keyed by capability name; a plugin gets the ones it declares. */
  readonly capabilityArgs: Readonly<Record<string, unknown>>;
}

/** containerd gives bandwidth limits no burst limit: the largest uint32. */
const unlimitedBurst = 4_294_967_295;

/**
 * Builds CNI_ARGS and the capability args for a pod as containerd's CRI plugin does:
 * `portMappings` (host ports > 0 only, protocol lowercased, `hostIP` when set), `bandwidth`
 * (rates in bit/s, bursts unlimited), `ipRanges` (one range set per pod CIDR), `dns`,
 * `cgroupPath` and `io.kubernetes.cri.pod-annotations`. Capabilities with nothing to say are left out.
 * @throws InvalidArgumentError for a port mapping with an unknown protocol or an out-of-range port
 */
export function podCniArgs(pod: PodRef, podCidrs: readonly string[]): PodCniArgs {
  const args = [
    'IgnoreUnknown=1',
    `K8S_POD_NAMESPACE=${pod.namespace}`,
    `K8S_POD_NAME=${pod.name}`,
    `K8S_POD_INFRA_CONTAINER_ID=${pod.id}`,
    `K8S_POD_UID=${pod.uid}`,
  ].join(';');

  const caps: Record<string, unknown> = {};
  const portMappings = pod.portMappings.filter(p => p.hostPort > 0).map(p => {
    const protocol = protocolName(p.protocol);
    if (!protocol || !validPort(p.containerPort) || !validPort(p.hostPort)) {
      throw new InvalidArgumentError(`attach pod "${pod.name}/${pod.namespace}": invalid port mapping ${p.hostPort}:${p.containerPort}/${p.protocol}`);
    }
    return { hostPort: p.hostPort, containerPort: p.containerPort, protocol, ...(p.hostIp ? { hostIP: p.hostIp } : {}) };
  });
  if (portMappings.length > 0) caps.portMappings = portMappings;

  const bw = pod.bandwidth;
  if (bw && (bw.ingressBitsPerSecond !== undefined || bw.egressBitsPerSecond !== undefined)) {
    caps.bandwidth = {
      ...(bw.ingressBitsPerSecond !== undefined ? { ingressRate: bw.ingressBitsPerSecond, ingressBurst: unlimitedBurst } : {}),
      ...(bw.egressBitsPerSecond !== undefined ? { egressRate: bw.egressBitsPerSecond, egressBurst: unlimitedBurst } : {}),
    };
  }
  if (podCidrs.length > 0) caps.ipRanges = podCidrs.map(subnet => [{ subnet }]);
  if (pod.dns) caps.dns = { servers: [...pod.dns.servers], searches: [...pod.dns.searches], options: [...pod.dns.options] };
  if (pod.cgroupParent !== '') caps.cgroupPath = pod.cgroupParent;
  caps['io.kubernetes.cri.pod-annotations'] = { ...pod.annotations };
  return { args, capabilityArgs: caps };
}

function protocolName(p: cri.Protocol): string | undefined {
  switch (p) {
    case cri.Protocol.TCP: return 'tcp';
    case cri.Protocol.UDP: return 'udp';
    case cri.Protocol.SCTP: return 'sctp';
    default: return undefined;
  }
}

function validPort(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 65_535;
}
