// The read path of a qcow2 image: guest bytes from normal clusters (adjacent ones in one read),
// compressed clusters, zero clusters and the backing file, and the map of what this layer holds.
// The write path uses it too, to copy the untouched part of a cluster it gives a new home.

import { inflateRawSync } from 'node:zlib';
import { readL1Entry, type L2Entry } from './l2-entry.js';
import type { Qcow2Context } from './qcow2-context.js';
import { Qcow2Error, corrupt } from './qcow2-error.js';
import type { Qcow2Extent } from './qcow2-image.js';

export class ClusterReader {
  private readonly ctx: Qcow2Context;

  constructor(ctx: Qcow2Context) {
    this.ctx = ctx;
  }

  /** Fills `into` with the guest bytes at [offset, offset + into.length) (the caller holds the queue). */
  async read(offset: number, into: Uint8Array): Promise<void> {
    const { file, map, clusterSize } = this.ctx;
    // Clusters that follow one another in the file are read with one call.
    let run: { host: number; start: number; end: number } | null = null;
    const flushRun = async (): Promise<void> => {
      if (run === null) return;
      const part = into.subarray(run.start, run.end);
      const n = await file.readAt(run.host, part);
      part.fill(0, n);
      run = null;
    };
    for (let done = 0; done < into.length; ) {
      const at = offset + done;
      const inCluster = at % clusterSize;
      const n = Math.min(clusterSize - inCluster, into.length - done);
      const cluster = Math.floor(at / clusterSize);
      const entry = map.lookupCached(cluster) ?? (await map.lookup(cluster));
      if (entry.type === 'normal') {
        this.checkDataCluster(entry, cluster);
        const host = entry.offset + inCluster;
        if (run !== null && run.host + (run.end - run.start) === host) run.end += n;
        else {
          await flushRun();
          run = { host, start: done, end: done + n };
        }
      } else {
        await flushRun();
        await this.readEntry(cluster, entry, inCluster, into.subarray(done, done + n));
      }
      done += n;
    }
    await flushRun();
  }

  /** This layer's extents in [offset, offset + length) (see Qcow2Image.allocationMap). */
  async allocationMap(offset: number, length: number): Promise<Qcow2Extent[]> {
    const extents: Qcow2Extent[] = [];
    const add = (start: number, end: number, state: Qcow2Extent['state']): void => {
      const last = extents[extents.length - 1];
      if (last !== undefined && last.state === state && last.offset + last.length === start) last.length += end - start;
      else if (end > start) extents.push({ offset: start, length: end - start, state });
    };
    const end = offset + length;
    const { clusterSize: cs, map } = this.ctx;
    const perTable = map.l2Entries * cs;
    for (let at = offset; at < end; ) {
      const l1Index = Math.floor(at / perTable);
      if (l1Index >= map.l1Size || readL1Entry(map.l1Table, l1Index).offset === 0) {
        const next = Math.min(end, (l1Index + 1) * perTable);
        add(at, next, 'unallocated');
        at = next;
        continue;
      }
      const cluster = Math.floor(at / cs);
      const next = Math.min(end, (cluster + 1) * cs);
      const entry = map.lookupCached(cluster) ?? (await map.lookup(cluster));
      add(at, next, entry.type === 'normal' || entry.type === 'compressed' ? 'data' : entry.type);
      at = next;
    }
    return extents;
  }

  /** Reads guest bytes of `cluster` (described by `entry`) at `inCluster` into `part`. */
  async readEntry(cluster: number, entry: L2Entry, inCluster: number, part: Uint8Array): Promise<void> {
    switch (entry.type) {
      case 'unallocated':
        await this.readBacking(cluster * this.ctx.clusterSize + inCluster, part);
        return;
      case 'zero':
        part.fill(0);
        return;
      case 'normal': {
        this.checkDataCluster(entry, cluster);
        const n = await this.ctx.file.readAt(entry.offset + inCluster, part);
        part.fill(0, n);
        return;
      }
      case 'compressed':
        part.set((await this.decompress(entry, cluster)).subarray(inCluster, inCluster + part.length));
    }
  }

  /** Throws unless a normal entry of guest `cluster` points at a whole cluster inside the file. */
  checkDataCluster(entry: { offset: number; reserved: boolean }, cluster: number): void {
    const { path, file, clusterSize } = this.ctx;
    if (entry.offset % clusterSize !== 0 || entry.offset >= file.size || entry.reserved) {
      throw corrupt(path, `guest cluster ${cluster} maps to host offset ${entry.offset}, which is misaligned, has reserved bits set or lies past the end of the file`, { op: 'read', offset: cluster * clusterSize });
    }
  }

  private async decompress(entry: { offset: number; sectors: number }, cluster: number): Promise<Uint8Array> {
    const { path, file, clusterSize } = this.ctx;
    const length = entry.sectors * 512 - (entry.offset % 512);
    if (entry.offset + length > file.size + 512 || entry.offset < clusterSize) {
      throw corrupt(path, `compressed guest cluster ${cluster} at host offset ${entry.offset} lies outside the file`, { op: 'read', offset: cluster * clusterSize });
    }
    const compressed = new Uint8Array(length);
    await file.readAt(entry.offset, compressed);
    let out: Buffer;
    try {
      out = inflateRawSync(compressed, { maxOutputLength: clusterSize, finishFlush: 2 /* Z_SYNC_FLUSH: trailing bytes of the last sector are ignored */ });
    } catch (cause) {
      throw new Qcow2Error('corrupt', `qcow2 image ${path} is corrupt: compressed guest cluster ${cluster} does not inflate: ${(cause as Error).message}`, { path, op: 'read', offset: cluster * clusterSize }, { cause });
    }
    if (out.length !== clusterSize) throw corrupt(path, `compressed guest cluster ${cluster} inflates to ${out.length} bytes instead of ${clusterSize}`, { op: 'read', offset: cluster * clusterSize });
    return out;
  }

  private async readBacking(offset: number, into: Uint8Array): Promise<void> {
    const backing = this.ctx.backing;
    const inBacking = backing === null ? 0 : Math.max(0, Math.min(into.length, backing.size - offset));
    if (backing !== null && inBacking > 0) await backing.read(offset, into.subarray(0, inBacking));
    into.fill(0, inBacking);
  }
}
