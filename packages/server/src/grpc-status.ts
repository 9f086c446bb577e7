import { status } from '@grpc/grpc-js';
import { CriError, type ErrorKind } from '@crikit/core';

/** The one table from crikit's error kinds to gRPC status codes. */
const codes: Record<ErrorKind, status> = {
  'invalid-argument': status.INVALID_ARGUMENT,
  'not-found': status.NOT_FOUND,
  'already-exists': status.ALREADY_EXISTS,
  'failed-precondition': status.FAILED_PRECONDITION,
  'resource-exhausted': status.RESOURCE_EXHAUSTED,
  'permission-denied': status.PERMISSION_DENIED,
  'unavailable': status.UNAVAILABLE,
  'unimplemented': status.UNIMPLEMENTED,
  'cancelled': status.CANCELLED,
  'deadline-exceeded': status.DEADLINE_EXCEEDED,
  'internal': status.INTERNAL,
};

/** The gRPC status for an error: its CriError kind's code, or UNKNOWN for anything else (a bug). */
export function grpcStatusOf(err: unknown): status {
  return err instanceof CriError ? codes[err.kind] : status.UNKNOWN;
}
