/**
 * A least-recently-used cache: once it holds `capacity` entries, setting a new key evicts the
 * entry that was used (read or written) longest ago.
 */
export class LRUCache {
  #capacity;
  #entries = new Map();

  constructor(capacity) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.#capacity = capacity;
  }

  get size() {
    return this.#entries.size;
  }

  has(key) {
    return this.#entries.has(key);
  }

  get(key) {
    return this.#entries.get(key);
  }

  set(key, value) {
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      this.#entries.delete(oldest);
    }
    this.#entries.set(key, value);
    return this;
  }

  /** Keys from least to most recently used. */
  keys() {
    return [...this.#entries.keys()];
  }
}
