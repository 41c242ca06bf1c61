// The active disk's cluster mapping (qcow2 spec, "Cluster mapping"): the L1 table in memory,
// L2 tables in a bounded cache, both written through; copy-on-write of shared L2 tables; the
// copied flags; and the deferred freeing of clusters whose last reference is gone, which
// happens only after a sync has made the dropped reference durable (see qcow2-image.ts).

import type { ImageFile } from './image-file.js';
import { compressedClusters, readL1Entry, readL2Entry, setCopiedFlag, writeEntry, type L2Entry } from './l2-entry.js';
import { corrupt } from './qcow2-error.js';
import { HEADER_SIZE_FIELD } from './qcow2-header.js';
import type { RefcountTable } from './refcount-table.js';
import { TableCache } from './table-cache.js';

/** An L2 table that belongs to the active disk alone, and the index of one of its entries. */
export interface WritableL2 {
  table: Uint8Array;
  offset: number;
  index: number;
}

export class ClusterMap {
  readonly l2Entries: number;
  l1Table: Uint8Array;
  l1Offset: number;
  l1Size: number;
  private readonly path: string;
  private readonly file: ImageFile;
  private readonly refcounts: RefcountTable;
  private readonly clusterBits: number;
  private readonly clusterSize: number;
  private readonly version: number;
  private readonly l2Cache: TableCache;
  /** Clusters whose last reference is gone but not yet durably; freed after the next sync. */
  private pendingFrees: number[] = [];

  constructor(init: { path: string; file: ImageFile; refcounts: RefcountTable; clusterBits: number; version: number; l1Table: Uint8Array; l1Offset: number; l1Size: number; l2CacheTables: number }) {
    this.path = init.path;
    this.file = init.file;
    this.refcounts = init.refcounts;
    this.clusterBits = init.clusterBits;
    this.clusterSize = 2 ** init.clusterBits;
    this.version = init.version;
    this.l2Entries = this.clusterSize / 8;
    this.l1Table = init.l1Table;
    this.l1Offset = init.l1Offset;
    this.l1Size = init.l1Size;
    this.l2Cache = new TableCache(init.l2CacheTables);
  }

  /** The L2 entry of `cluster` when its L2 table is cached (or absent); undefined when it must be read. */
  lookupCached(cluster: number): L2Entry | undefined {
    const l1Index = Math.floor(cluster / this.l2Entries);
    if (l1Index >= this.l1Size) return { type: 'unallocated' };
    const l2Offset = readL1Entry(this.l1Table, l1Index).offset;
    if (l2Offset === 0) return { type: 'unallocated' };
    const table = this.l2Cache.get(l2Offset);
    return table === undefined ? undefined : readL2Entry(table, cluster % this.l2Entries, this.clusterBits, this.version);
  }

  /** The L2 entry for guest cluster `cluster` (unallocated when there is no L2 table). */
  async lookup(cluster: number): Promise<L2Entry> {
    const l1Index = Math.floor(cluster / this.l2Entries);
    if (l1Index >= this.l1Size) return { type: 'unallocated' };
    const l2Offset = readL1Entry(this.l1Table, l1Index).offset;
    if (l2Offset === 0) return { type: 'unallocated' };
    const table = await this.loadL2(l2Offset, l1Index);
    return readL2Entry(table, cluster % this.l2Entries, this.clusterBits, this.version);
  }

  async loadL2(offset: number, l1Index: number): Promise<Uint8Array> {
    let table = this.l2Cache.get(offset);
    if (table !== undefined) return table;
    if (offset % this.clusterSize !== 0 || offset + this.clusterSize > this.file.size) {
      throw corrupt(this.path, `L1 entry ${l1Index} points to an L2 table at ${offset}, misaligned or past the end of the file`, { offset });
    }
    table = new Uint8Array(this.clusterSize);
    await this.file.readExact(offset, table, `L2 table of L1 entry ${l1Index}`);
    this.l2Cache.set(offset, table);
    return table;
  }

  /** True when writing guest cluster `cluster` first needs a new L2 table (none yet, or one shared with a snapshot). */
  async needsNewL2(cluster: number): Promise<boolean> {
    const l1Index = Math.floor(cluster / this.l2Entries);
    if (l1Index >= this.l1Size) return true;
    const offset = readL1Entry(this.l1Table, l1Index).offset;
    return offset === 0 || (await this.refcounts.get(offset / this.clusterSize)) !== 1;
  }

  /** The L2 table for guest cluster `cluster`, allocated or copied so that it belongs to the active disk alone. */
  async l2ForWrite(cluster: number): Promise<WritableL2> {
    const l1Index = Math.floor(cluster / this.l2Entries);
    const index = cluster % this.l2Entries;
    const current = readL1Entry(this.l1Table, l1Index);
    if (current.offset !== 0) {
      const table = await this.loadL2(current.offset, l1Index);
      const refcount = await this.refcounts.get(current.offset / this.clusterSize);
      if (refcount === 0) throw corrupt(this.path, `the L2 table at ${current.offset} is in use but has refcount 0`, { op: 'write', offset: current.offset });
      if (refcount === 1) {
        if (!current.copied) await this.setL1Entry(l1Index, current.offset);
        return { table, offset: current.offset, index };
      }
    }
    // A new table, or a private copy of one shared with a snapshot.
    const table = current.offset === 0 ? new Uint8Array(this.clusterSize) : (await this.loadL2(current.offset, l1Index)).slice();
    if (current.offset !== 0) await this.refreshEntryFlags(table);
    const offset = await this.refcounts.allocate(1);
    await this.file.writeAt(offset, table);
    await this.barrier();
    await this.setL1Entry(l1Index, offset);
    this.l2Cache.set(offset, table);
    if (current.offset !== 0) this.pendingFrees.push(current.offset / this.clusterSize);
    return { table, offset, index };
  }

  private async setL1Entry(index: number, offset: number): Promise<void> {
    writeEntry(this.l1Table, index, offset, true);
    await this.file.writeAt(this.l1Offset + index * 8, this.l1Table.subarray(index * 8, index * 8 + 8));
  }

  async setL2Entry(l2: WritableL2, offset: number, copied: boolean, zero: boolean): Promise<void> {
    writeEntry(l2.table, l2.index, offset, copied, zero);
    await this.file.writeAt(l2.offset + l2.index * 8, l2.table.subarray(l2.index * 8, l2.index * 8 + 8));
  }

  /** Queues the clusters `entry` referenced for freeing after the next sync. */
  release(entry: L2Entry): void {
    if (entry.type === 'normal' || (entry.type === 'zero' && entry.offset !== 0)) this.pendingFrees.push(entry.offset / this.clusterSize);
    if (entry.type === 'compressed') {
      const [first, last] = compressedClusters(entry, this.clusterBits);
      for (let c = first; c <= last; c++) this.pendingFrees.push(c);
    }
  }

  /** fdatasync, then frees the clusters whose references were dropped before it. */
  async barrier(): Promise<void> {
    const frees = this.pendingFrees;
    this.pendingFrees = [];
    await this.file.sync();
    for (const cluster of frees) {
      if ((await this.refcounts.add(cluster, -1)) === 0) this.l2Cache.delete(cluster * this.clusterSize);
    }
  }

  /** Adds `delta` to the refcount of every cluster reachable from an L1 table (per path, as qcow2 counts). */
  async adjustTree(l1: Uint8Array, l1Size: number, delta: number): Promise<void> {
    const deltas = new Map<number, number>();
    const add = (cluster: number): void => {
      deltas.set(cluster, (deltas.get(cluster) ?? 0) + delta);
    };
    for (let i = 0; i < l1Size; i++) {
      const l2Offset = readL1Entry(l1, i).offset;
      if (l2Offset === 0) continue;
      const table = await this.loadL2(l2Offset, i);
      for (let j = 0; j < this.l2Entries; j++) {
        const entry = readL2Entry(table, j, this.clusterBits, this.version);
        if (entry.type === 'normal' || (entry.type === 'zero' && entry.offset !== 0)) add(entry.offset / this.clusterSize);
        else if (entry.type === 'compressed') {
          const [first, last] = compressedClusters(entry, this.clusterBits);
          for (let c = first; c <= last; c++) add(c);
        }
      }
      add(l2Offset / this.clusterSize);
    }
    for (const cluster of await this.refcounts.addMany(deltas)) this.l2Cache.delete(cluster * this.clusterSize);
  }

  /** After a snapshot is taken nothing is exclusive: clears bit 63 in the active L1 and its L2 tables. */
  async clearCopiedFlags(): Promise<void> {
    for (let i = 0; i < this.l1Size; i++) {
      const l2Offset = readL1Entry(this.l1Table, i).offset;
      if (l2Offset === 0) continue;
      const table = await this.loadL2(l2Offset, i);
      for (let j = 0; j < this.l2Entries; j++) setCopiedFlag(table, j, false);
      await this.file.writeAt(l2Offset, table);
      setCopiedFlag(this.l1Table, i, false);
    }
    await this.file.writeAt(this.l1Offset, this.l1Table.subarray(0, this.l1Size * 8));
  }

  /** Sets bit 63 of each allocated entry of `table` to "refcount is 1". */
  private async refreshEntryFlags(table: Uint8Array): Promise<boolean> {
    let changed = false;
    for (let j = 0; j < this.l2Entries; j++) {
      const entry = readL2Entry(table, j, this.clusterBits, this.version);
      if (entry.type !== 'normal' && !(entry.type === 'zero' && entry.offset !== 0)) continue;
      const exclusive = (await this.refcounts.get(entry.offset / this.clusterSize)) === 1;
      if (exclusive !== entry.copied) {
        setCopiedFlag(table, j, exclusive);
        changed = true;
      }
    }
    return changed;
  }

  /** Brings bit 63 of the active L1 and L2 entries in line with the refcounts (after revert or delete). */
  async refreshCopiedFlags(): Promise<void> {
    let l1Changed = false;
    for (let i = 0; i < this.l1Size; i++) {
      const entry = readL1Entry(this.l1Table, i);
      if (entry.offset === 0) continue;
      const exclusive = (await this.refcounts.get(entry.offset / this.clusterSize)) === 1;
      if (exclusive !== entry.copied) {
        setCopiedFlag(this.l1Table, i, exclusive);
        l1Changed = true;
      }
      if (!exclusive) continue;
      const table = await this.loadL2(entry.offset, i);
      if (await this.refreshEntryFlags(table)) await this.file.writeAt(entry.offset, table);
    }
    if (l1Changed) await this.file.writeAt(this.l1Offset, this.l1Table.subarray(0, this.l1Size * 8));
  }

  /**
   * Switches to a new L1 table of `l1Size` entries (and virtual size `size`): written to new
   * clusters and synced, then named by one header write; `afterSwitch` runs once that is durable,
   * then the old table is freed.
   */
  async replaceL1(table: Uint8Array, l1Size: number, size: number, afterSwitch?: () => Promise<void>): Promise<void> {
    const clusters = Math.ceil((l1Size * 8) / this.clusterSize);
    const offset = clusters === 0 ? 0 : await this.refcounts.allocate(clusters);
    if (clusters > 0) await this.file.writeAt(offset, table.subarray(0, clusters * this.clusterSize));
    await this.file.sync();
    const field = new Uint8Array(24);
    const view = new DataView(field.buffer);
    view.setBigUint64(0, BigInt(size));
    view.setUint32(12, l1Size);
    view.setBigUint64(16, BigInt(offset));
    await this.file.writeAt(HEADER_SIZE_FIELD, field);
    await this.file.sync();
    const old = { offset: this.l1Offset, clusters: Math.ceil((this.l1Size * 8) / this.clusterSize) };
    this.l1Table = table;
    this.l1Size = l1Size;
    this.l1Offset = offset;
    if (afterSwitch) await afterSwitch();
    for (let c = 0; c < old.clusters; c++) await this.refcounts.add(old.offset / this.clusterSize + c, -1);
    await this.file.sync();
  }
}
