/**
 * The one size-bounded map of the project: every memo and cache that keys on attacker-influenced input
 * (certificate bytes, RIM documents, OCSP responses, collateral ids) keeps at most `max` entries, so no input
 * can grow memory without bound. Least recently used is evicted first: a `get` hit moves the entry to the
 * young end, and `set` on a full map drops the oldest entry.
 *
 * It relies on `Map` iterating in insertion order (ECMA-262 §24.1: Map.prototype.forEach / keys visit
 * entries "in original key insertion order"), so re-inserting an entry on use is the whole LRU bookkeeping.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();

  /** `max`: the most entries held (at least 1). */
  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`BoundedMap size must be a positive integer, got ${max}`);
  }

  get size(): number {
    return this.map.size;
  }

  /** The value for `key`, marking it most recently used. */
  get(key: K): V | undefined {
    if (!this.map.has(key)) return undefined;
    const v = this.map.get(key) as V;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Stores `value` as the most recently used entry, evicting the least recently used when full. */
  set(key: K, value: V): this {
    this.map.delete(key);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as K);
    this.map.set(key, value);
    return this;
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  /** Deletes `key` only if it still maps to `value`: drops a failed entry, never the entry that replaced it. */
  deleteIf(key: K, value: V): void {
    if (this.map.get(key) === value) this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  /** Values, least recently used first (does not change the order). */
  values(): IterableIterator<V> {
    return this.map.values();
  }

  /** Entries, least recently used first (does not change the order). */
  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }
}
