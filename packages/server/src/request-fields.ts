import { InvalidArgumentError } from '@crikit/core';

/** `value`, or INVALID_ARGUMENT naming the CRI field when it is empty. */
export function required(value: string, field: string): string {
  if (!value) throw new InvalidArgumentError(`${field} is required`);
  return value;
}
