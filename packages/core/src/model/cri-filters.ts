import type { cri } from '@crikit/api';
import type { ContainerRecord } from './container-record.js';
import { toCriContainerState } from './container-status.js';
import type { SandboxRecord } from './sandbox-record.js';
import { toCriSandboxState } from './sandbox-status.js';

/** True when `labels` has every key of `selector` with the same value (CRI label selectors are exact). */
export function matchesLabels(labels: Readonly<Record<string, string>>, selector: Readonly<Record<string, string>> | undefined): boolean {
  if (!selector) return true;
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/**
 * True when a sandbox passes a CRI ListPodSandbox filter. Ids match by prefix, as crictl's short
 * ids do; the state is compared as the CRI reports it (`unknown` is SANDBOX_NOTREADY).
 */
export function matchesSandboxFilter(record: SandboxRecord, filter: cri.PodSandboxFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.id !== '' && !record.metadata.id.startsWith(filter.id)) return false;
  if (filter.state && toCriSandboxState(record.status.state) !== filter.state.state) return false;
  return matchesLabels(record.metadata.config.labels, filter.labelSelector);
}

/** True when a container passes a CRI ListContainers filter. Ids (own and sandbox) match by prefix. */
export function matchesContainerFilter(record: ContainerRecord, filter: cri.ContainerFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.id !== '' && !record.metadata.id.startsWith(filter.id)) return false;
  if (filter.podSandboxId !== '' && !record.metadata.sandboxId.startsWith(filter.podSandboxId)) return false;
  if (filter.state && toCriContainerState(record.status.state) !== filter.state.state) return false;
  return matchesLabels(record.metadata.config.labels, filter.labelSelector);
}
