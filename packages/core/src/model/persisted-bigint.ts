import { z } from 'zod';

/**
 * A bigint persisted as a decimal string, since JSON has no 64-bit integers
 * (`1700000000000000000n` ⇄ `"1700000000000000000"`). Decodes to bigint.
 */
export const persistedBigint = z.string().regex(/^-?\d+$/, 'must be a decimal integer').transform(s => BigInt(s));

/**
 * A schema for a JSON object holding a ts-proto message, decoded with the message's `fromJSON`
 * (which accepts what `toJSON` wrote: int64 as strings, bytes as base64, enums by name).
 */
export function persistedMessage<T>(type: { fromJSON(object: unknown): T }, what: string): z.ZodType<T, Record<string, unknown>> {
  return z.record(z.string(), z.unknown()).transform((json, ctx) => {
    try {
      return type.fromJSON(json);
    } catch (err) {
      // fromJSON throws on malformed scalars (BigInt("x")): report it as a schema issue.
      ctx.issues.push({ code: 'custom', input: json, message: `${what}: ${err instanceof Error ? err.message : String(err)}` });
      return z.NEVER;
    }
  });
}

/** The JSON-safe form of a ts-proto message, as its `toJSON` writes it. */
export function messageToJson<T>(type: { toJSON(message: T): unknown }, message: T): Record<string, unknown> {
  // toJSON always returns a plain object for a message type.
  return type.toJSON(message) as Record<string, unknown>;
}
