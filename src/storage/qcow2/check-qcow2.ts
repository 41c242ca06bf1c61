// A consistency check of a qcow2 image in the manner of `qemu-img check`: every cluster that
// metadata references is counted (once per path from an L1 table, as qcow2 refcounts are kept)
// and compared with the stored refcounts. Stored > referenced is a leak (harmless, repairable);
// stored < referenced, references past the end of the file or misaligned, and copied flags
// that disagree with the refcount are corruptions.

import type { ImageFile } from './image-file.js';
import { compressedClusters, readL1Entry, readL2Entry } from './l2-entry.js';
import { Qcow2Error } from './qcow2-error.js';
import type { RefcountTable } from './refcount-table.js';
import type { SnapshotEntry } from './snapshot-table.js';

export interface Qcow2CheckResult {
  /** Clusters whose stored refcount is above the references found. */
  leaks: number;
  /** Problems that can lose data: refcounts below the references, bad offsets, wrong copied flags. */
  corruptions: number;
  /** Leaked clusters whose refcounts were corrected (repair only). */
  repairedLeaks: number;
  /** The first problems found, described (at most MAX_PROBLEMS). */
  problems: string[];
}

export interface CheckSubject {
  file: ImageFile;
  path: string;
  clusterBits: number;
  version: number;
  refcounts: RefcountTable;
  l1Table: Uint8Array;
  l1Offset: number;
  l1Size: number;
  snapshots: readonly SnapshotEntry[];
  snapshotsOffset: number;
  snapshotsBytes: number;
}

const MAX_PROBLEMS = 100;

export async function checkQcow2(image: CheckSubject, repair: boolean): Promise<Qcow2CheckResult> {
  const cs = 2 ** image.clusterBits;
  const fileClusters = Math.ceil(image.file.size / cs);
  const refs = new Map<number, number>();
  const result: Qcow2CheckResult = { leaks: 0, corruptions: 0, repairedLeaks: 0, problems: [] };
  const report = (problem: string, isLeak = false): void => {
    if (isLeak) result.leaks++;
    else result.corruptions++;
    if (result.problems.length < MAX_PROBLEMS) result.problems.push(problem);
  };
  const reference = (offset: number, bytes: number, what: string): boolean => {
    if (bytes === 0) return true;
    if (offset + bytes > fileClusters * cs) {
      report(`${what} at ${offset} lies past the end of the file`);
      return false;
    }
    for (let c = Math.floor(offset / cs); c <= Math.floor((offset + bytes - 1) / cs); c++) refs.set(c, (refs.get(c) ?? 0) + 1);
    return true;
  };
  const aligned = (offset: number, what: string): boolean => {
    if (offset % cs === 0) return true;
    report(`${what} at ${offset} is not cluster-aligned`);
    return false;
  };
  /** Exclusive ownership to verify for the active tree: [cluster, copied flag, what]. */
  const flags: Array<[number, boolean, string]> = [];

  const walk = async (l1: Uint8Array, l1Size: number, owner: string, active: boolean): Promise<void> => {
    const table = new Uint8Array(cs);
    for (let i = 0; i < l1Size; i++) {
      const l1Entry = readL1Entry(l1, i);
      if (l1Entry.offset === 0) continue;
      const what = `L2 table ${i} of ${owner}`;
      if (!aligned(l1Entry.offset, what) || !reference(l1Entry.offset, cs, what)) continue;
      if (active) flags.push([l1Entry.offset / cs, l1Entry.copied, what]);
      if ((await image.file.readAt(l1Entry.offset, table)) !== cs) table.fill(0);
      for (let j = 0; j < cs / 8; j++) {
        const entry = readL2Entry(table, j, image.clusterBits, image.version);
        const where = `data cluster ${j} of ${what}`;
        if (entry.type === 'normal' || (entry.type === 'zero' && entry.offset !== 0)) {
          if (entry.type === 'normal' && entry.reserved) report(`${where} has reserved bits set`);
          if (!aligned(entry.offset, where) || !reference(entry.offset, cs, where)) continue;
          if (active) flags.push([entry.offset / cs, entry.copied, where]);
        } else if (entry.type === 'compressed') {
          const [first, last] = compressedClusters(entry, image.clusterBits);
          reference(first * cs, (last - first + 1) * cs, `compressed ${where}`);
        }
      }
    }
  };

  reference(0, cs, 'header');
  reference(image.l1Offset, image.l1Size * 8, 'active L1 table');
  const [tableFirst, tableClusters] = image.refcounts.tableClusters;
  reference(tableFirst * cs, tableClusters * cs, 'refcount table');
  const brokenBlocks = new Set<number>();
  for (let i = 0; i < image.refcounts.tableEntries; i++) {
    try {
      const offset = image.refcounts.blockOffset(i);
      if (offset !== 0) reference(offset, cs, `refcount block ${i}`);
    } catch (e) {
      if (!(e instanceof Qcow2Error)) throw e;
      brokenBlocks.add(i);
      report(`refcount block ${i} is misaligned or past the end of the file`);
    }
  }
  if (image.snapshots.length > 0) reference(image.snapshotsOffset, image.snapshotsBytes, 'snapshot table');
  for (const snapshot of image.snapshots) {
    const what = `L1 table of snapshot ${snapshot.name}`;
    if (!reference(snapshot.l1TableOffset, snapshot.l1Size * 8, what)) continue;
    const l1 = new Uint8Array(snapshot.l1Size * 8);
    await image.file.readExact(snapshot.l1TableOffset, l1, what);
    await walk(l1, snapshot.l1Size, `snapshot ${snapshot.name}`, false);
  }
  await walk(image.l1Table, image.l1Size, 'the active L1 table', true);

  const stored = async (cluster: number): Promise<number | null> => {
    if (brokenBlocks.has(Math.floor(cluster / image.refcounts.entriesPerBlock))) return null;
    return image.refcounts.peek(cluster) ?? (await image.refcounts.get(cluster));
  };
  const fixes = new Map<number, number>();
  let last = fileClusters;
  for (const c of refs.keys()) last = Math.max(last, c + 1);
  for (let c = 0; c < last; c++) {
    const refcount = await stored(c);
    if (refcount === null) continue;
    const referenced = refs.get(c) ?? 0;
    if (refcount > referenced) {
      report(`leaked cluster ${c}: refcount ${refcount}, referenced ${referenced} times`, true);
      if (repair) fixes.set(c, referenced - refcount);
    } else if (refcount < referenced) {
      report(`cluster ${c} has refcount ${refcount} but is referenced ${referenced} times`);
    }
  }
  if (fixes.size > 0) {
    await image.refcounts.addMany(fixes);
    result.repairedLeaks = fixes.size;
  }
  for (const [cluster, copied, what] of flags) {
    const refcount = await stored(cluster);
    if (refcount !== null && (refcount === 1) !== copied) report(`${what}: the copied flag is ${copied ? 'set' : 'clear'} but the refcount is ${refcount}`);
  }
  return result;
}
