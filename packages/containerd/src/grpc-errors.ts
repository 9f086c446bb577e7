import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  AlreadyExistsError, CancelledError, CriError, DeadlineExceededError, FailedPreconditionError, InternalError,
  InvalidArgumentError, NotFoundError, ResourceExhaustedError, UnavailableError, UnimplementedError,
} from '@crikit/core';

type CriErrorClass = new (message: string, options?: { cause?: unknown }) => CriError;

/** containerd's status codes (from its errdefs package) and the crikit error each one becomes. */
const byCode: ReadonlyMap<number, CriErrorClass> = new Map<number, CriErrorClass>([
  [GrpcStatus.NOT_FOUND, NotFoundError],
  [GrpcStatus.ALREADY_EXISTS, AlreadyExistsError],
  [GrpcStatus.INVALID_ARGUMENT, InvalidArgumentError],
  [GrpcStatus.FAILED_PRECONDITION, FailedPreconditionError],
  [GrpcStatus.UNAVAILABLE, UnavailableError],
  [GrpcStatus.DEADLINE_EXCEEDED, DeadlineExceededError],
  [GrpcStatus.CANCELLED, CancelledError],
  [GrpcStatus.UNIMPLEMENTED, UnimplementedError],
  [GrpcStatus.RESOURCE_EXHAUSTED, ResourceExhaustedError],
]);

/** The shape of a grpc-js `ServiceError` that this mapping reads. */
interface StatusLike { code: number; details?: unknown; message?: unknown }

function isStatusLike(err: unknown): err is StatusLike {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number';
}

/** What containerd said, without grpc-js's `<code> <NAME>: ` prefix. */
function detailsOf(err: StatusLike): string {
  if (typeof err.details === 'string' && err.details !== '') return err.details;
  const name = GrpcStatus[err.code];
  return typeof name === 'string' ? name.toLowerCase().replaceAll('_', ' ') : `grpc status ${err.code}`;
}

/**
 * Maps a failed containerd call onto crikit's error classes: NOT_FOUND → NotFoundError, ALREADY_EXISTS →
 * AlreadyExistsError, INVALID_ARGUMENT → InvalidArgumentError, FAILED_PRECONDITION → FailedPreconditionError,
 * UNAVAILABLE → UnavailableError, DEADLINE_EXCEEDED → DeadlineExceededError, CANCELLED → CancelledError,
 * UNIMPLEMENTED → UnimplementedError, RESOURCE_EXHAUSTED → ResourceExhaustedError, anything else → InternalError.
 *
 * The message reads `<doing>: <containerd's details>`, e.g. `containerd tasks.create: container "abc": not found`,
 * and the original error is kept as `cause`. A CriError passes through unchanged; a value that is not a gRPC
 * status error becomes an InternalError. Pure; never throws.
 */
export function fromGrpcError(err: unknown, doing: string): CriError {
  if (err instanceof CriError) return err;
  if (!isStatusLike(err)) {
    const text = err instanceof Error ? err.message : String(err);
    return new InternalError(`${doing}: ${text}`, { cause: err });
  }
  const ErrorClass = byCode.get(err.code) ?? InternalError;
  return new ErrorClass(`${doing}: ${detailsOf(err)}`, { cause: err });
}
