/** The closed set of failure kinds crikit reports; the server maps each to one gRPC status code. */
export type ErrorKind =
  | 'invalid-argument' | 'not-found' | 'already-exists' | 'failed-precondition' | 'resource-exhausted'
  | 'permission-denied' | 'unavailable' | 'unimplemented' | 'cancelled' | 'deadline-exceeded' | 'internal';

/** Base of every error crikit raises on purpose. The message says what was being done and why it failed. */
export abstract class CriError extends Error {
  abstract readonly kind: ErrorKind;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A request field is missing, malformed or contradicts another. */
export class InvalidArgumentError extends CriError { readonly kind = 'invalid-argument'; }
/** An id, name or image is unknown. */
export class NotFoundError extends CriError { readonly kind = 'not-found'; }
/** A name or id is already taken. */
export class AlreadyExistsError extends CriError { readonly kind = 'already-exists'; }
/** The object is in the wrong state for the request. */
export class FailedPreconditionError extends CriError { readonly kind = 'failed-precondition'; }
/** A limit was reached. */
export class ResourceExhaustedError extends CriError { readonly kind = 'resource-exhausted'; }
/** A policy refuses the request (e.g. an embedder's image policy); nothing was done. */
export class PermissionDeniedError extends CriError { readonly kind = 'permission-denied'; }
/** A dependency (containerd, a registry, CNI) cannot be reached or is still starting. */
export class UnavailableError extends CriError { readonly kind = 'unavailable'; }
/** The RPC or option is not supported. */
export class UnimplementedError extends CriError { readonly kind = 'unimplemented'; }
/** The caller gave up (its AbortSignal fired). */
export class CancelledError extends CriError { readonly kind = 'cancelled'; }
/** A deadline passed. */
export class DeadlineExceededError extends CriError { readonly kind = 'deadline-exceeded'; }
/** A broken invariant: a bug in crikit or in what it talks to. */
export class InternalError extends CriError { readonly kind = 'internal'; }

/** The kind of the first CriError found walking `err` and its `cause` chain, or undefined. */
export function errorKind(err: unknown): ErrorKind | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 32; e = e.cause, depth++) {
    if (e instanceof CriError) return e.kind;
  }
  return undefined;
}

/** True when `err` (or an error in its cause chain) is a NotFoundError. */
export const isNotFound = (err: unknown): boolean => errorKind(err) === 'not-found';
/** True when `err` (or an error in its cause chain) is an AlreadyExistsError. */
export const isAlreadyExists = (err: unknown): boolean => errorKind(err) === 'already-exists';
/** True when `err` (or an error in its cause chain) is an UnavailableError. */
export const isUnavailable = (err: unknown): boolean => errorKind(err) === 'unavailable';
/** True when `err` (or an error in its cause chain) is a FailedPreconditionError. */
export const isFailedPrecondition = (err: unknown): boolean => errorKind(err) === 'failed-precondition';

/** Turns an aborted signal's reason into CancelledError or DeadlineExceededError, naming what was being done. */
export function abortError(signal: AbortSignal, doing: string): CriError {
  const reason: unknown = signal.reason;
  if (reason instanceof CriError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') return new DeadlineExceededError(`${doing}: deadline exceeded`, { cause: reason });
  return new CancelledError(`${doing}: cancelled`, { cause: reason });
}

/** Throws the CRI error for an aborted signal; does nothing while the signal is live. */
export function throwIfAborted(signal: AbortSignal, doing: string): void {
  if (signal.aborted) throw abortError(signal, doing);
}

/** Awaits `p`; a NotFoundError is success (for idempotent deletes). */
export async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
