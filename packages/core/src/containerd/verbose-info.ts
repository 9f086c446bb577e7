import type { Any } from '@crikit/api';
import { OCI_SPEC_TYPE_URL } from './spec-type-url.js';

/**
 * The JSON text of a container's OCI spec as containerd holds it, checked once so it can be embedded
 * as is; undefined when absent, of another type or not JSON.
 */
export function specJsonOf(any: Any | undefined): string | undefined {
  if (!any || any.typeUrl.replace(/^\/+/, '') !== OCI_SPEC_TYPE_URL) return undefined;
  const text = Buffer.from(any.value).toString('utf8');
  try {
    JSON.parse(text);
    return text;
  } catch {
    return undefined;
  }
}

/**
 * The `info` document of verbose Pod/ContainerStatus: `fields` (bigints as decimal strings), then
 * `runtimeSpec`, the spec's JSON text spliced in unparsed (left out when undefined).
 */
export function verboseInfoJson(fields: Readonly<Record<string, unknown>>, runtimeSpecJson: string | undefined): string {
  const head = JSON.stringify(fields, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  if (runtimeSpecJson === undefined) return head;
  return `${head.length > 2 ? `${head.slice(0, -1)},` : '{'}"runtimeSpec":${runtimeSpecJson}}`;
}
