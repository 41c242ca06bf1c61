// The MBR partition table: four primary entries in sector 0, and logical partitions in a chain
// of extended boot records (EBRs), each entry 16 bytes from offset 446, signature 0x55AA at 510.

import type { DiskReader } from './disk-reader.js';
import type { Partition } from './partition.js';
import { MBR_EFI_SYSTEM, MBR_EXTENDED_TYPES, mbrTypeName } from './partition-types.js';

const SECTOR = 512;
/** Logical partitions followed at most; Linux stops well before this too. */
const MAX_LOGICAL = 128;

export interface MbrEntry {
  status: number;
  type: number;
  /** First sector, relative to the table's reference point, and sector count. */
  start: number;
  sectors: number;
}

/** Whether `sector` ends in the 0x55AA boot signature. */
export function hasBootSignature(sector: Uint8Array): boolean {
  return sector[510] === 0x55 && sector[511] === 0xaa;
}

export function mbrEntries(sector: Uint8Array): MbrEntry[] {
  const view = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  return [0, 1, 2, 3].map((i) => {
    const at = 446 + 16 * i;
    return { status: sector[at]!, type: sector[at + 4]!, start: view.getUint32(at + 8, true), sectors: view.getUint32(at + 12, true) };
  });
}

function toPartition(disk: DiskReader, number: number, entry: MbrEntry, base: number, tableAt: number): Partition {
  if (entry.status !== 0 && entry.status !== 0x80) throw disk.error(`MBR entry ${number} has the boot indicator 0x${entry.status.toString(16)} (only 0x00 and 0x80 are valid)`, tableAt);
  const offset = (base + entry.start) * SECTOR;
  const size = entry.sectors * SECTOR;
  if (entry.sectors === 0 || offset + size > disk.size) throw disk.error(`MBR partition ${number} (${entry.sectors} sectors from sector ${base + entry.start}) does not fit on the disk`, tableAt);
  return {
    number,
    offset,
    size,
    type: `0x${entry.type.toString(16).padStart(2, '0')}`,
    typeName: mbrTypeName(entry.type),
    bootable: entry.status === 0x80,
    esp: entry.type === MBR_EFI_SYSTEM,
  };
}

/** The partitions of an MBR disk whose sector 0 is `sector`: primaries 1-4 by slot, logicals from 5. */
export async function readMbr(disk: DiskReader, sector: Uint8Array): Promise<Partition[]> {
  const partitions: Partition[] = [];
  let extended: MbrEntry | undefined;
  for (const [i, entry] of mbrEntries(sector).entries()) {
    if (entry.type === 0) continue;
    if (MBR_EXTENDED_TYPES.includes(entry.type)) {
      if (extended) throw disk.error('the MBR has more than one extended partition', 0);
      extended = entry;
      continue;
    }
    partitions.push(toPartition(disk, i + 1, entry, 0, 0));
  }
  if (!extended) return partitions;
  // Each EBR: entry 0 is a logical partition relative to the EBR; entry 1 links the next EBR relative to the extended partition.
  const seen = new Set<number>();
  let ebr = extended.start;
  for (let number = 5; ; number++) {
    if (seen.has(ebr)) throw disk.error(`the chain of extended boot records loops back to sector ${ebr}`, ebr * SECTOR);
    if (number - 5 >= MAX_LOGICAL) throw disk.error(`the chain of extended boot records has more than ${MAX_LOGICAL} links`, ebr * SECTOR);
    seen.add(ebr);
    const record = await disk.read(ebr * SECTOR, SECTOR);
    if (!hasBootSignature(record)) throw disk.error(`the extended boot record at sector ${ebr} has no 0x55AA signature`, ebr * SECTOR);
    const [logical, link] = mbrEntries(record);
    if (logical!.type !== 0) partitions.push(toPartition(disk, number, logical!, ebr, ebr * SECTOR));
    if (link!.type === 0 || link!.start === 0) return partitions;
    ebr = extended.start + link!.start;
  }
}
