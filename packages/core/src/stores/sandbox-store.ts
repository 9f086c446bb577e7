import { injectable } from 'inversify';
import type { SandboxId } from '../ids.js';
import type { SandboxRecord, SandboxStatus } from '../model/sandbox-record.js';
import type { EndOperation, RecordOperation } from './operation-guards.js';
import { RecordTable } from './record-table.js';

/**
 * Sandboxes known to this runtime: an index of containerd's truth, rebuilt by recovery at start.
 * Synchronous on purpose: a mutation never spans an await, so the map, the short-id index and the
 * name registrar always agree. Records are frozen snapshots; status changes only through `update`.
 */
@injectable()
export class SandboxStore {
  private readonly table = new RecordTable<SandboxId, SandboxStatus, SandboxRecord>('sandbox');

  /**
   * Reserves a sandbox name before RunPodSandbox takes any side effect. Idempotent for the same id.
   * @throws AlreadyExistsError if the name belongs to another id (the message names the holder)
   */
  reserveName(name: string, id: SandboxId): void {
    this.table.reserveName(name, id);
  }

  /**
   * Undoes `reserveName` after a failed RunPodSandbox. Idempotent; does nothing once the record
   * is stored (use `delete` then).
   */
  releaseName(id: SandboxId): void {
    this.table.releaseName(id);
  }

  /**
   * Stores a new sandbox (reserving its name if the caller has not). The record is frozen in place,
   * config included, so build it from objects nobody mutates afterwards.
   * @throws AlreadyExistsError if the id is stored or the name belongs to another id
   */
  add(record: SandboxRecord): void {
    this.table.add(record);
  }

  /**
   * The sandbox with this id or unique id prefix (crictl's short ids).
   * @throws NotFoundError, InvalidArgumentError (empty or ambiguous prefix)
   */
  get(idOrPrefix: string): SandboxRecord {
    return this.table.get(idOrPrefix);
  }

  /**
   * Like `get`, but undefined when nothing matches (for idempotent Stop and Remove).
   * @throws InvalidArgumentError (empty or ambiguous prefix)
   */
  find(idOrPrefix: string): SandboxRecord | undefined {
    return this.table.find(idOrPrefix);
  }

  /**
   * Replaces the status with `fn(current)` and returns the new record. If `fn` throws, nothing changes.
   * @throws NotFoundError if the id is not stored
   */
  update(id: SandboxId, fn: (status: SandboxStatus) => SandboxStatus): SandboxRecord {
    return this.table.update(id, fn, (record, status) => ({ metadata: record.metadata, status }));
  }

  /**
   * Marks `op` in progress on sandbox `id` (set before the operation's first await); call the
   * returned function when it ends. The loser of a race gets the error and must undo nothing.
   * @throws NotFoundError, FailedPreconditionError if another operation is in progress on it
   */
  beginOperation(id: SandboxId, op: RecordOperation): EndOperation {
    return this.table.beginOperation(id, op);
  }

  /** The operation in progress on sandbox `id`, if any. */
  operation(id: SandboxId): RecordOperation | undefined {
    return this.table.operation(id);
  }

  /** Removes the sandbox, releasing its name and short id. Idempotent. */
  delete(id: SandboxId): void {
    this.table.delete(id);
  }

  /** A snapshot of the sandboxes `filter` accepts (all by default). */
  list(filter?: (record: SandboxRecord) => boolean): readonly SandboxRecord[] {
    return this.table.list(filter);
  }

  /** The id holding `name`, reserved or stored, if any. */
  nameHolder(name: string): SandboxId | undefined {
    return this.table.nameHolder(name);
  }

  /** How many sandboxes are stored. */
  get size(): number {
    return this.table.size;
  }
}
