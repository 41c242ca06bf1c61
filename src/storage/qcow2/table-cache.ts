// A bounded least-recently-used cache of metadata tables (L2 tables, refcount blocks), each
// one cluster, keyed by host offset. Tables are written through to the file when they change,
// so an evicted table is simply dropped.

export class TableCache {
  readonly capacity: number;
  private readonly tables = new Map<number, Uint8Array>();

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`a table cache needs room for at least one table (got ${capacity})`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.tables.size;
  }

  /** The cached table at `offset`, now the most recently used; undefined when not cached. */
  get(offset: number): Uint8Array | undefined {
    const table = this.tables.get(offset);
    if (table !== undefined) {
      this.tables.delete(offset);
      this.tables.set(offset, table);
    }
    return table;
  }

  /** Caches `table`, evicting the least recently used table when full. */
  set(offset: number, table: Uint8Array): void {
    this.tables.delete(offset);
    this.tables.set(offset, table);
    while (this.tables.size > this.capacity) {
      const oldest = this.tables.keys().next().value as number;
      this.tables.delete(oldest);
    }
  }

  /** Forgets the table at `offset` (its cluster was freed or rewritten elsewhere). */
  delete(offset: number): void {
    this.tables.delete(offset);
  }

  clear(): void {
    this.tables.clear();
  }
}
