import { FailedPreconditionError } from '../errors.js';

/** An operation that holds a record exclusively while it runs (containerd's CRI `Starting` / `Removing` flags). */
export type RecordOperation = 'starting' | 'stopping' | 'removing';

/** Ends an operation begun with `begin`. Idempotent. */
export type EndOperation = () => void;

/**
 * Which record has an operation in progress. `begin` is synchronous, so a caller that takes the
 * guard before its first await can never interleave with another operation on the same record.
 */
export class OperationGuards<Id extends string> {
  private readonly running = new Map<Id, { readonly op: RecordOperation }>();

  /** @param what names the kind of record in error messages (`sandbox`, `container`). */
  constructor(private readonly what: string) {}

  /**
   * Marks `op` in progress on `id`.
   * @throws FailedPreconditionError naming the record and the operation already in progress
   */
  begin(id: Id, op: RecordOperation): EndOperation {
    const current = this.running.get(id);
    if (current) throw new FailedPreconditionError(`${this.what} "${id}" is busy: ${current.op} in another call`);
    const token = { op };
    this.running.set(id, token);
    // Only this operation's own token is removed, never a later operation's.
    return () => { if (this.running.get(id) === token) this.running.delete(id); };
  }

  /** The operation in progress on `id`, if any. */
  current(id: Id): RecordOperation | undefined {
    return this.running.get(id)?.op;
  }
}
