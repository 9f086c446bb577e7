/** Now, in nanoseconds since the epoch: the CRI's unit for every timestamp. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** A protobuf Timestamp in nanoseconds since the epoch; 0n when absent. */
export function timestampNs(t: { readonly seconds: bigint; readonly nanos: number } | undefined): bigint {
  return t ? t.seconds * 1_000_000_000n + BigInt(t.nanos) : 0n;
}
