import { randomBytes } from 'node:crypto';
import type { Any } from '@crikit/api';
import { InternalError, InvalidArgumentError, OCI_SPEC_TYPE_URL } from '@crikit/core';
import type { OciSpec } from './oci-spec.js';


/**
 * JSON text of `spec`, as containerd writes it: keys with undefined values are left out, bigints
 * (should a caller put one in an int64 field) are written as exact integers.
 * @throws InternalError on a value JSON cannot hold (NaN, Infinity, a function): a bug in the builder
 */
export function specToJson(spec: OciSpec): string {
  // A placeholder a bigint is written as first, then unquoted: JSON.stringify cannot write bigints.
  // It carries a random nonce made for this call, so no string in the spec (an env value, an
  // annotation, anything a user sent) can spell it and be turned into a bare number.
  const mark = `\u0000bigint:${randomBytes(16).toString('hex')}:`;
  const text = JSON.stringify(spec, (key, value: unknown) => {
    if (typeof value === 'bigint') return `${mark}${value.toString()}`;
    if (typeof value === 'number' && !Number.isFinite(value)) throw new InternalError(`encode oci spec: "${key}" is ${value}`);
    if (typeof value === 'function' || typeof value === 'symbol') throw new InternalError(`encode oci spec: "${key}" is a ${typeof value}`);
    return value;
  });
  const quoted = JSON.stringify(mark).slice(1, -1).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  return text.replace(new RegExp(`"${quoted}(-?\\d+)"`, 'g'), '$1');
}

/**
 * Packs a spec for containerd's `Container.spec` field: a `google.protobuf.Any` whose type URL is
 * `OCI_SPEC_TYPE_URL` and whose value is the spec's JSON bytes (not protobuf).
 * @throws InternalError on a value JSON cannot hold
 */
export function toSpecAny(spec: OciSpec): Any {
  return { typeUrl: OCI_SPEC_TYPE_URL, value: Buffer.from(specToJson(spec), 'utf8') };
}

/**
 * Unpacks a container's `spec` field written by `toSpecAny` (or by containerd itself).
 * Integers beyond 2^53 lose precision; no field crikit reads gets there.
 * @throws InvalidArgumentError when the Any holds another type, is not JSON, or has no `ociVersion`
 */
export function fromSpecAny(any: Any): OciSpec {
  const name = any.typeUrl.replace(/^\/+/, '');
  if (name !== OCI_SPEC_TYPE_URL) throw new InvalidArgumentError(`decode oci spec: unexpected type "${any.typeUrl}"`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(any.value).toString('utf8'));
  } catch (err) {
    throw new InvalidArgumentError('decode oci spec: not JSON', { cause: err });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json) || typeof (json as { ociVersion?: unknown }).ociVersion !== 'string') {
    throw new InvalidArgumentError('decode oci spec: not a runtime spec (no ociVersion)');
  }
  return json as OciSpec;
}
