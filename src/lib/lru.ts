/**
 * A bounded least-recently-used map for the per-isolate L1. A JavaScript `Map` iterates in
 * insertion order, so re-inserting on access keeps the least recently used key first and
 * eviction is O(1). `maxEntries` 0 disables it: nothing is stored.
 *
 * The bound matters: an isolate lives for many requests and has 128 MB; an unbounded map keyed
 * by caller-supplied tokens would let anyone grow it until the isolate dies.
 */
export class Lru<V> {
  readonly #map = new Map<string, V>();
  readonly maxEntries: number;

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) {
      throw new RangeError('Lru maxEntries must be a non-negative integer');
    }
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.#map.size;
  }

  get enabled(): boolean {
    return this.maxEntries > 0;
  }

  /** Read and mark as most recently used. */
  get(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  /** Read without touching recency. */
  peek(key: string): V | undefined {
    return this.#map.get(key);
  }

  set(key: string, value: V): void {
    if (this.maxEntries === 0) return;
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.maxEntries) {
      const oldest = this.#map.keys().next();
      if (oldest.done === true) break;
      this.#map.delete(oldest.value);
    }
  }

  delete(key: string): boolean {
    return this.#map.delete(key);
  }

  /** Remove every entry for which `predicate` holds; returns how many went. O(size). */
  deleteWhere(predicate: (value: V, key: string) => boolean): number {
    let removed = 0;
    for (const [key, value] of this.#map) {
      if (predicate(value, key)) {
        this.#map.delete(key);
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.#map.clear();
  }
}
