// Finds a disk's partition table: a GPT behind its protective MBR, or an MBR. A whole-disk
// FAT file system also ends its first sector with 0x55AA; like U-Boot, it is not taken for one.

import type { DiskReader } from './disk-reader.js';
import { readGpt } from './gpt.js';
import { hasBootSignature, mbrEntries, readMbr } from './mbr.js';
import type { PartitionTable } from './partition.js';
import { MBR_GPT_PROTECTIVE } from './partition-types.js';

/** A FAT boot sector names its type at 0x36 (FAT12/16) or 0x52 (FAT32). */
function looksLikeFatBootSector(sector: Uint8Array): boolean {
  const text = (at: number, length: number) => Buffer.from(sector.subarray(at, at + length)).toString('latin1');
  return text(0x36, 3) === 'FAT' || text(0x52, 5) === 'FAT32';
}

/** The disk's partition table, or undefined when it has none. Throws 'bad-partition-table' for a corrupt one. */
export async function readPartitionTable(disk: DiskReader): Promise<PartitionTable | undefined> {
  if (disk.size < 512) return undefined;
  const sector = await disk.read(0, 512);
  if (!hasBootSignature(sector)) return undefined;
  if (mbrEntries(sector).some((e) => e.type === MBR_GPT_PROTECTIVE)) return { scheme: 'gpt', partitions: await readGpt(disk) };
  if (looksLikeFatBootSector(sector)) return undefined;
  return { scheme: 'mbr', partitions: await readMbr(disk, sector) };
}
