import type { cri } from '@crikit/api';
import { InvalidArgumentError } from '@crikit/core';
import { parseQualifiedCdiName } from './cdi-spec.js';

/** Prefix of the container annotations that ask for CDI devices (device plugins before the CDI_devices field). */
export const CDI_ANNOTATION_PREFIX = 'cdi.k8s.io/';

/**
 * The CDI devices a container asks for, as containerd's CRI collects them (`WithCDI`): first the
 * `CDI_devices` field in order, then the comma-separated values of its `cdi.k8s.io/*` annotations
 * (by key, for a stable order); each name once.
 * @throws InvalidArgumentError naming the field or annotation whose name is not `vendor.com/class=name`
 */
export function requestedCdiDevices(config: cri.ContainerConfig): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (name: string, where: string): void => {
    if (!parseQualifiedCdiName(name)) {
      throw new InvalidArgumentError(`${where}: "${name}" is not a fully-qualified CDI device name (vendor.com/class=name)`);
    }
    if (seen.has(name)) return;
    seen.add(name);
    out.push(name);
  };
  config.CDIDevices.forEach((d, i) => add(d.name, `CDI_devices[${i}].name`));
  const keys = Object.keys(config.annotations).filter(k => k.startsWith(CDI_ANNOTATION_PREFIX)).sort();
  for (const key of keys) {
    for (const name of config.annotations[key]!.split(',')) add(name, `annotation ${key}`);
  }
  return out;
}
