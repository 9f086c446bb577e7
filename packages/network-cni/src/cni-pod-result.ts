import { isIPv4 } from 'node:net';
import type { PodInterface, PodNetworkResult } from '@crikit/core';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Turns the final CNI ADD result into what PodNetwork returns. Pod IPs are those on the pod's
 * interface `ifName` (the result's `ips` pointing at an interface with that name inside a sandbox),
 * or all IPs when the result does not say which interface they belong to; without prefix length,
 * the first IPv4 first and the others after it in result order, as containerd's selectPodIPs picks.
 * Results of spec 0.1/0.2 (`ip4`/`ip6`) are understood too.
 */
export function toPodNetworkResult(result: unknown, ifName: string): PodNetworkResult {
  if (!isObject(result)) return { ips: [], interfaces: [], raw: result };
  const interfaces: PodInterface[] = Array.isArray(result.interfaces)
    ? result.interfaces.filter(isObject).map(i => ({ name: str(i.name), mac: str(i.mac), sandbox: str(i.sandbox) }))
    : [];
  let addresses: string[];
  if (Array.isArray(result.ips)) {
    const ips = result.ips.filter(isObject);
    const onPodInterface = ips.filter(ip => {
      const iface = typeof ip.interface === 'number' ? interfaces[ip.interface] : undefined;
      return iface !== undefined && iface.name === ifName && iface.sandbox !== '';
    });
    addresses = (onPodInterface.length > 0 ? onPodInterface : ips).map(ip => str(ip.address));
  } else {
    // Spec 0.1/0.2 results: one address per family.
    addresses = [result.ip4, result.ip6].filter(isObject).map(c => str(c.ip));
  }
  const plain = addresses.map(a => a.split('/')[0]!).filter(a => a !== '');
  const v4 = plain.findIndex(a => isIPv4(a));
  const ips = v4 > 0 ? [plain[v4]!, ...plain.slice(0, v4), ...plain.slice(v4 + 1)] : plain;
  return { ips, interfaces, raw: result };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
