import { InvalidArgumentError, NotFoundError } from '../errors.js';

/**
 * Resolves a unique prefix of an id to the id, the way crictl's short ids (`crictl ps` prints 13
 * characters) are accepted by every RPC. The ids are kept sorted, so a prefix is a binary search.
 * Not safe to share across stores: each store owns one index and mutates it with its map.
 */
export class PrefixIndex<Id extends string> {
  /** Sorted ascending, no duplicates. */
  private readonly ids: Id[] = [];

  /** @param what names the kind of id in error messages (`sandbox`, `container`, `image`). */
  constructor(private readonly what: string) {}

  /** Adds `id`. Idempotent. */
  add(id: Id): void {
    const at = this.lowerBound(id);
    if (this.ids[at] !== id) this.ids.splice(at, 0, id);
  }

  /** Removes `id`. Idempotent: an unknown id is ignored. */
  remove(id: Id): void {
    const at = this.lowerBound(id);
    if (this.ids[at] === id) this.ids.splice(at, 1);
  }

  /** True when `id` itself (not a prefix) is indexed. */
  has(id: string): boolean {
    return this.ids[this.lowerBound(id)] === id;
  }

  /**
   * The one id that starts with `prefix`. An exact id always wins, even if it prefixes a longer one.
   * @throws InvalidArgumentError when `prefix` is empty or matches more than one id
   * @throws NotFoundError when no id matches
   */
  resolve(prefix: string): Id {
    const found = this.find(prefix);
    if (found === undefined) throw new NotFoundError(`${this.what} "${prefix}" not found`);
    return found;
  }

  /**
   * Like `resolve`, but a prefix that matches nothing gives undefined.
   * @throws InvalidArgumentError when `prefix` is empty or ambiguous
   */
  find(prefix: string): Id | undefined {
    if (prefix === '') throw new InvalidArgumentError(`${this.what} id must not be empty`);
    const at = this.lowerBound(prefix);
    const first = this.ids[at];
    if (first === undefined || !first.startsWith(prefix)) return undefined;
    if (first === prefix) return first;
    const next = this.ids[at + 1];
    // Sorted order puts every id with this prefix right after `first`: one look is enough.
    if (next !== undefined && next.startsWith(prefix)) {
      throw new InvalidArgumentError(`${this.what} id prefix "${prefix}" is ambiguous: it matches ${this.countFrom(at, prefix)} ids`);
    }
    return first;
  }

  /** How many ids are indexed. */
  get size(): number {
    return this.ids.length;
  }

  /** Index of the first id that is >= `key`. */
  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ids[mid] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private countFrom(at: number, prefix: string): number {
    let n = 0;
    while (this.ids[at + n]?.startsWith(prefix)) n++;
    return n;
  }
}
