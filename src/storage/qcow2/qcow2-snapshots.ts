// Internal snapshots of a qcow2 image (qcow2 spec, "Snapshots"): the snapshot table and the
// create, revert and delete operations, which move reference counts of whole cluster trees and
// keep the copied flags in step with them (see the write ordering in qcow2-image.ts).

import type { ClusterWriter } from './cluster-writer.js';
import { setCopiedFlag } from './l2-entry.js';
import type { Qcow2Context } from './qcow2-context.js';
import { Qcow2Error, corrupt } from './qcow2-error.js';
import { HEADER_SNAPSHOTS_FIELD, MAX_SNAPSHOTS, l1EntriesFor, maxVirtualSize } from './qcow2-header.js';
import type { Qcow2SnapshotInfo } from './qcow2-image.js';
import { type SnapshotEntry, encodeSnapshotTable } from './snapshot-table.js';

/** The snapshot table as the header finds it: its entries, where it starts and its length in bytes. */
export interface SnapshotTableState {
  entries: SnapshotEntry[];
  offset: number;
  bytes: number;
}

/** The operations run inside the image's queue, after its access checks. */
export class Qcow2Snapshots {
  private readonly ctx: Qcow2Context;
  private readonly writer: ClusterWriter;
  private table: SnapshotTableState;

  constructor(ctx: Qcow2Context, writer: ClusterWriter, table: SnapshotTableState) {
    this.ctx = ctx;
    this.writer = writer;
    this.table = table;
  }

  get entries(): SnapshotEntry[] {
    return this.table.entries;
  }

  /** Where the snapshot table lies in the file (offset 0 and no bytes when there is none). */
  get offset(): number {
    return this.table.offset;
  }

  get bytes(): number {
    return this.table.bytes;
  }

  list(): Qcow2SnapshotInfo[] {
    return this.table.entries.map((s) => ({ id: s.id, name: s.name, size: s.diskSize ?? this.ctx.size, date: new Date(s.dateSec * 1000 + Math.floor(s.dateNsec / 1e6)) }));
  }

  /** Records the current disk contents as snapshot `name`. */
  async create(name: string): Promise<void> {
    const { path, clusterSize, map } = this.ctx;
    const bytes = new TextEncoder().encode(name);
    if (bytes.length === 0 || bytes.length > 0xffff) throw new Qcow2Error('invalid-argument', `cannot create a snapshot of ${path} named "${name}": a name has 1..65535 bytes`, { path, op: 'createSnapshot' });
    if (this.table.entries.some((s) => s.name === name)) throw new Qcow2Error('invalid-argument', `cannot create snapshot "${name}" of ${path}: one with that name exists; delete it first or choose another name`, { path, op: 'createSnapshot' });
    if (this.table.entries.length >= MAX_SNAPSHOTS) throw new Qcow2Error('too-large', `cannot create snapshot "${name}" of ${path}: it already has ${MAX_SNAPSHOTS} snapshots`, { path, op: 'createSnapshot' });
    // The L1 copy and the new snapshot table (an entry is at most 64 bytes plus its id and name).
    const newClusters = Math.ceil((map.l1Size * 8) / clusterSize) + Math.ceil((this.table.bytes + 96 + bytes.length) / clusterSize);
    await this.writer.withSpace(newClusters, () => this.createLocked(name));
  }

  /** Makes the disk read as it did when snapshot `name` (a name or id) was taken. */
  async revert(name: string): Promise<void> {
    const { path, clusterBits, clusterSize, map } = this.ctx;
    const { snapshot, snapL1 } = await this.openSnapshot(name, 'revertSnapshot');
    const size = snapshot.diskSize ?? this.ctx.size;
    if (!Number.isSafeInteger(size) || size > maxVirtualSize(clusterBits)) throw corrupt(path, `snapshot "${snapshot.name}" records a disk size of ${size} bytes`, { op: 'revertSnapshot' });
    const l1Size = Math.max(snapshot.l1Size, l1EntriesFor(size, clusterBits));
    const table = new Uint8Array(Math.max(1, Math.ceil((l1Size * 8) / clusterSize)) * clusterSize);
    await this.writer.withSpace(table.length / clusterSize, async () => {
      await map.adjustTree(snapL1, snapshot.l1Size, +1);
      table.set(snapL1);
      for (let i = 0; i < snapshot.l1Size; i++) setCopiedFlag(table, i, false);
      const old = { table: map.l1Table, size: map.l1Size };
      await map.replaceL1(table, l1Size, size, async () => {
        await map.adjustTree(old.table, old.size, -1);
      });
    });
    this.ctx.size = size;
    await map.refreshCopiedFlags();
  }

  /** Deletes snapshot `name` (a name or id) and frees the clusters only it used. */
  async delete(name: string): Promise<void> {
    const { clusterSize, file, refcounts, map } = this.ctx;
    const { snapshot, snapL1 } = await this.openSnapshot(name, 'deleteSnapshot');
    await this.writer.withSpace(Math.ceil(this.table.bytes / clusterSize), () => this.replaceTable(this.table.entries.filter((s) => s !== snapshot)));
    // The header no longer names the snapshot: its references can go.
    await map.adjustTree(snapL1, snapshot.l1Size, -1);
    const l1Clusters = Math.ceil((snapshot.l1Size * 8) / clusterSize);
    for (let c = 0; c < l1Clusters; c++) await refcounts.add(snapshot.l1TableOffset / clusterSize + c, -1);
    // Copied flags may be set only once the refcounts that justify them are durable.
    await file.sync();
    await map.refreshCopiedFlags();
    await file.sync();
    await this.writer.trimFreeTail();
  }

  private async createLocked(name: string): Promise<void> {
    const { clusterSize, file, refcounts, map } = this.ctx;
    await map.barrier();
    // 1. No cluster of the tree stays exclusive: the copied flags go first (a flag that is clear
    //    while the refcount is still 1 only costs a copy; a set flag on a shared cluster would
    //    let QEMU write into the snapshot), then each path gets one more reference.
    await map.clearCopiedFlags();
    await file.sync();
    await map.adjustTree(map.l1Table, map.l1Size, +1);
    // 2. A copy of the L1 table, then the new snapshot table, both in new clusters.
    const l1Bytes = Math.ceil((map.l1Size * 8) / clusterSize) * clusterSize;
    const l1Offset = l1Bytes === 0 ? 0 : await refcounts.allocate(l1Bytes / clusterSize);
    if (l1Bytes > 0) await file.writeAt(l1Offset, map.l1Table.subarray(0, l1Bytes));
    const now = Date.now();
    const maxId = this.table.entries.reduce((m, s) => Math.max(m, Number.parseInt(s.id, 10) || 0), 0);
    const entry: SnapshotEntry = {
      id: String(maxId + 1), name, l1TableOffset: l1Offset, l1Size: map.l1Size, dateSec: Math.floor(now / 1000), dateNsec: (now % 1000) * 1e6,
      vmClockNsec: 0n, vmStateSize: 0, diskSize: this.ctx.size, extra: new Uint8Array(16),
    };
    await this.replaceTable([...this.table.entries, entry]);
  }

  /** Writes `entries` as a new snapshot table, switches the header to it, and frees the old one. */
  private async replaceTable(entries: SnapshotEntry[]): Promise<void> {
    const { clusterSize, file, refcounts } = this.ctx;
    const bytes = encodeSnapshotTable(entries);
    let offset = 0;
    if (entries.length > 0) {
      const clusters = Math.ceil(bytes.length / clusterSize);
      offset = await refcounts.allocate(clusters);
      const padded = new Uint8Array(clusters * clusterSize);
      padded.set(bytes);
      await file.writeAt(offset, padded);
    }
    await file.sync();
    const field = new Uint8Array(12);
    new DataView(field.buffer).setUint32(0, entries.length);
    new DataView(field.buffer).setBigUint64(4, BigInt(offset));
    await file.writeAt(HEADER_SNAPSHOTS_FIELD, field);
    await file.sync();
    const old = { offset: this.table.offset, clusters: this.table.entries.length > 0 ? Math.ceil(this.table.bytes / clusterSize) : 0 };
    this.table = { entries, offset, bytes: bytes.length };
    for (let c = 0; c < old.clusters; c++) await refcounts.add(old.offset / clusterSize + c, -1);
  }

  /** The snapshot `name` and its L1 table, once earlier writes are durable. */
  private async openSnapshot(name: string, op: string): Promise<{ snapshot: SnapshotEntry; snapL1: Uint8Array }> {
    const snapshot = this.find(name, op);
    await this.ctx.map.barrier();
    const snapL1 = new Uint8Array(snapshot.l1Size * 8);
    await this.ctx.file.readExact(snapshot.l1TableOffset, snapL1, `L1 table of snapshot ${snapshot.name}`);
    return { snapshot, snapL1 };
  }

  private find(name: string, op: string): SnapshotEntry {
    const { path } = this.ctx;
    const found = this.table.entries.find((s) => s.name === name) ?? this.table.entries.find((s) => s.id === name);
    if (found === undefined) {
      const known = this.table.entries.map((s) => s.name).join(', ') || 'none';
      throw new Qcow2Error('not-found', `${path} has no snapshot named "${name}" (it has: ${known})`, { path, op });
    }
    return found;
  }
}
