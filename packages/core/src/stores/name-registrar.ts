import { AlreadyExistsError } from '../errors.js';

/**
 * Keeps CRI names unique: a name (`name_namespace_uid_attempt`) belongs to at most one id and an
 * id holds at most one name. RunPodSandbox and CreateContainer reserve the name before any side
 * effect, so two concurrent requests for the same pod cannot both proceed (CRI: a second request
 * with a name in use fails with ALREADY_EXISTS, naming the holder).
 */
export class NameRegistrar<Id extends string> {
  private readonly idByName = new Map<string, Id>();
  private readonly nameById = new Map<Id, string>();

  /** @param what names the kind of object in error messages (`sandbox`, `container`). */
  constructor(private readonly what: string) {}

  /**
   * Reserves `name` for `id`. Idempotent when `id` already holds `name`.
   * @throws AlreadyExistsError when another id holds `name` (the message names it), or `id` holds another name
   */
  reserve(name: string, id: Id): void {
    const holder = this.idByName.get(name);
    if (holder === id) return;
    if (holder !== undefined) {
      throw new AlreadyExistsError(`${this.what} name "${name}" is reserved for "${holder}"`);
    }
    const held = this.nameById.get(id);
    if (held !== undefined) {
      throw new AlreadyExistsError(`${this.what} "${id}" already holds name "${held}"`);
    }
    this.idByName.set(name, id);
    this.nameById.set(id, name);
  }

  /** Releases whatever name `id` holds. Idempotent. */
  releaseById(id: Id): void {
    const name = this.nameById.get(id);
    if (name === undefined) return;
    this.nameById.delete(id);
    this.idByName.delete(name);
  }

  /** Releases `name`, whoever holds it. Idempotent. */
  releaseByName(name: string): void {
    const id = this.idByName.get(name);
    if (id === undefined) return;
    this.idByName.delete(name);
    this.nameById.delete(id);
  }

  /** The id holding `name`, if any. */
  lookup(name: string): Id | undefined {
    return this.idByName.get(name);
  }

  /** The name `id` holds, if any. */
  nameOf(id: Id): string | undefined {
    return this.nameById.get(id);
  }

  /** How many names are reserved. */
  get size(): number {
    return this.idByName.size;
  }
}
