import { injectable } from 'inversify';
import type { ContainerId } from '../ids.js';
import type { ContainerRecord, ContainerStatus } from '../model/container-record.js';
import type { EndOperation, RecordOperation } from './operation-guards.js';
import { RecordTable } from './record-table.js';

/**
 * Containers known to this runtime: an index of containerd's truth, rebuilt by recovery at start.
 * Synchronous on purpose: a mutation never spans an await, so the map, the short-id index and the
 * name registrar always agree. Records are frozen snapshots; status changes only through `update`.
 */
@injectable()
export class ContainerStore {
  private readonly table = new RecordTable<ContainerId, ContainerStatus, ContainerRecord>('container');

  /**
   * Reserves a container name before CreateContainer takes any side effect. Idempotent for the same id.
   * @throws AlreadyExistsError if the name belongs to another id (the message names the holder)
   */
  reserveName(name: string, id: ContainerId): void {
    this.table.reserveName(name, id);
  }

  /**
   * Undoes `reserveName` after a failed CreateContainer. Idempotent; does nothing once the record
   * is stored (use `delete` then).
   */
  releaseName(id: ContainerId): void {
    this.table.releaseName(id);
  }

  /**
   * Stores a new container (reserving its name if the caller has not). The record is frozen in place,
   * config included, so build it from objects nobody mutates afterwards.
   * @throws AlreadyExistsError if the id is stored or the name belongs to another id
   */
  add(record: ContainerRecord): void {
    this.table.add(record);
  }

  /**
   * The container with this id or unique id prefix (crictl's short ids).
   * @throws NotFoundError, InvalidArgumentError (empty or ambiguous prefix)
   */
  get(idOrPrefix: string): ContainerRecord {
    return this.table.get(idOrPrefix);
  }

  /**
   * Like `get`, but undefined when nothing matches (for idempotent Stop and Remove).
   * @throws InvalidArgumentError (empty or ambiguous prefix)
   */
  find(idOrPrefix: string): ContainerRecord | undefined {
    return this.table.find(idOrPrefix);
  }

  /**
   * Replaces the status with `fn(current)` and returns the new record. If `fn` throws, nothing changes.
   * @throws NotFoundError if the id is not stored
   */
  update(id: ContainerId, fn: (status: ContainerStatus) => ContainerStatus): ContainerRecord {
    return this.table.update(id, fn, (record, status) => ({ metadata: record.metadata, status }));
  }

  /**
   * Marks `op` in progress on container `id` (set before the operation's first await); call the
   * returned function when it ends. The loser of a race gets the error and must undo nothing.
   * @throws NotFoundError, FailedPreconditionError if another operation is in progress on it
   */
  beginOperation(id: ContainerId, op: RecordOperation): EndOperation {
    return this.table.beginOperation(id, op);
  }

  /** The operation in progress on container `id`, if any. */
  operation(id: ContainerId): RecordOperation | undefined {
    return this.table.operation(id);
  }

  /** Removes the container, releasing its name and short id. Idempotent. */
  delete(id: ContainerId): void {
    this.table.delete(id);
  }

  /** A snapshot of the containers `filter` accepts (all by default). */
  list(filter?: (record: ContainerRecord) => boolean): readonly ContainerRecord[] {
    return this.table.list(filter);
  }

  /** The id holding `name`, reserved or stored, if any. */
  nameHolder(name: string): ContainerId | undefined {
    return this.table.nameHolder(name);
  }

  /** How many containers are stored. */
  get size(): number {
    return this.table.size;
  }
}
