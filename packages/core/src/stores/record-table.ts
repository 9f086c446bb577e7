import { AlreadyExistsError, NotFoundError } from '../errors.js';
import { deepFreeze } from '../util/deep-freeze.js';
import { NameRegistrar } from './name-registrar.js';
import { OperationGuards, type EndOperation, type RecordOperation } from './operation-guards.js';
import { PrefixIndex } from './prefix-index.js';

/** The shape every stored record has: frozen metadata naming the object, and a status snapshot. */
export interface NamedRecord<Id extends string, S> {
  readonly metadata: { readonly id: Id; readonly name: string };
  readonly status: S;
}

/**
 * The engine behind SandboxStore and ContainerStore: records by id, a prefix index for short ids
 * and a name registrar, all changed together within one synchronous call. Records are frozen
 * (deeply) as they go in, so every record handed out is a snapshot.
 */
export class RecordTable<Id extends string, S, R extends NamedRecord<Id, S>> {
  private readonly byId = new Map<Id, R>();
  private readonly prefixes: PrefixIndex<Id>;
  private readonly names: NameRegistrar<Id>;
  private readonly operations: OperationGuards<Id>;

  /** @param what names the kind of record in error messages (`sandbox`, `container`). */
  constructor(private readonly what: string) {
    this.prefixes = new PrefixIndex<Id>(what);
    this.names = new NameRegistrar<Id>(what);
    this.operations = new OperationGuards<Id>(what);
  }

  /**
   * Marks `op` in progress on the stored record `id`; the returned function ends it.
   * @throws NotFoundError if the id is not stored, FailedPreconditionError if another operation is in progress
   */
  beginOperation(id: Id, op: RecordOperation): EndOperation {
    if (!this.byId.has(id)) throw new NotFoundError(`${this.what} "${id}" not found`);
    return this.operations.begin(id, op);
  }

  /** The operation in progress on `id`, if any. */
  operation(id: Id): RecordOperation | undefined {
    return this.operations.current(id);
  }

  /** @throws AlreadyExistsError if another id holds `name`. Idempotent for the same id. */
  reserveName(name: string, id: Id): void {
    this.names.reserve(name, id);
  }

  /** Releases the name `id` reserved, unless a record with that id is stored. Idempotent. */
  releaseName(id: Id): void {
    // A stored record keeps its name until it is deleted: the index must never lose it.
    if (!this.byId.has(id)) this.names.releaseById(id);
  }

  /** @throws AlreadyExistsError if the id is stored or another id holds the name */
  add(record: R): void {
    const { id, name } = record.metadata;
    if (this.byId.has(id)) throw new AlreadyExistsError(`${this.what} "${id}" already exists`);
    // Throws before anything changed if another id holds the name.
    this.names.reserve(name, id);
    this.byId.set(id, deepFreeze(record));
    this.prefixes.add(id);
  }

  /** @throws NotFoundError, InvalidArgumentError (empty or ambiguous prefix) */
  get(idOrPrefix: string): R {
    const record = this.find(idOrPrefix);
    if (!record) throw new NotFoundError(`${this.what} "${idOrPrefix}" not found`);
    return record;
  }

  /** Like `get`, but undefined when nothing matches. @throws InvalidArgumentError (empty or ambiguous prefix) */
  find(idOrPrefix: string): R | undefined {
    const id = this.prefixes.find(idOrPrefix);
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** Replaces the status with `fn(status)`; `rebuild` makes the new record. @throws NotFoundError, or what `fn` throws */
  update(id: Id, fn: (status: S) => S, rebuild: (record: R, status: S) => R): R {
    const current = this.byId.get(id);
    if (!current) throw new NotFoundError(`${this.what} "${id}" not found`);
    // `fn` runs before anything is written, so a throw leaves the stored record as it was.
    const next = deepFreeze(rebuild(current, fn(current.status)));
    this.byId.set(id, next);
    return next;
  }

  /** Removes the record, its short id and its name. Idempotent. */
  delete(id: Id): void {
    this.byId.delete(id);
    this.prefixes.remove(id);
    this.names.releaseById(id);
  }

  /** A snapshot of the records `filter` accepts (all by default), in insertion order. */
  list(filter?: (record: R) => boolean): readonly R[] {
    const all = [...this.byId.values()];
    return filter ? all.filter(filter) : all;
  }

  /** The id holding `name` (reserved or stored), if any. */
  nameHolder(name: string): Id | undefined {
    return this.names.lookup(name);
  }

  /** How many records are stored (reserved names not counted). */
  get size(): number {
    return this.byId.size;
  }
}
