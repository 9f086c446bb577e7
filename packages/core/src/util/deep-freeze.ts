/**
 * Freezes `value` and everything reachable from it, in place, and returns it.
 * Typed arrays and Buffers are left writable: `Object.freeze` refuses them, and the CRI messages
 * that hold bytes (`KeyValue.value`) are never mutated by crikit anyway.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value;
  Object.freeze(value);
  for (const key of Reflect.ownKeys(value)) {
    deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}
