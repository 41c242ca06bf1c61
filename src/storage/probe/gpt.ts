// The GUID Partition Table (UEFI spec 2.10, 5.3): the header at LBA 1 (or its backup at the last
// LBA), checked by its CRC32s, and its partition entry array.

import { crc32 } from 'node:zlib';
import type { DiskReader } from './disk-reader.js';
import type { Partition } from './partition.js';
import { EFI_SYSTEM_GUID, gptTypeName, guidText } from './partition-types.js';

const LBA = 512;
const SIGNATURE = 'EFI PART';
/** More entries than any tool writes (the usual 128, sgdisk's maximum is far lower than this). */
const MAX_ENTRIES = 4096;
/** 5.3.2: 16 KiB is the minimum array; anything past 1 MiB is not a real table. */
const MAX_ARRAY_BYTES = 1024 * 1024;
const LEGACY_BIOS_BOOTABLE = 1n << 2n;

interface GptHeader {
  entriesLba: number;
  entryCount: number;
  entrySize: number;
  entriesCrc: number;
  firstUsable: number;
  lastUsable: number;
}

/** The header at `lba`, or why it is not a valid one. */
async function readHeader(disk: DiskReader, lba: number): Promise<GptHeader | string> {
  const sector = await disk.read(lba * LBA, LBA);
  const view = new DataView(sector.buffer);
  if (Buffer.from(sector.subarray(0, 8)).toString('latin1') !== SIGNATURE) return `no "${SIGNATURE}" signature at LBA ${lba}`;
  const headerSize = view.getUint32(12, true);
  if (headerSize < 92 || headerSize > LBA) return `the header at LBA ${lba} gives its size as ${headerSize} bytes`;
  const copy = sector.slice(0, headerSize);
  new DataView(copy.buffer).setUint32(16, 0, true);
  if (crc32(copy) !== view.getUint32(16, true)) return `the header at LBA ${lba} fails its CRC32`;
  if (Number(view.getBigUint64(24, true)) !== lba) return `the header at LBA ${lba} says it is at LBA ${view.getBigUint64(24, true)}`;
  const header: GptHeader = {
    firstUsable: Number(view.getBigUint64(40, true)),
    lastUsable: Number(view.getBigUint64(48, true)),
    entriesLba: Number(view.getBigUint64(72, true)),
    entryCount: view.getUint32(80, true),
    entrySize: view.getUint32(84, true),
    entriesCrc: view.getUint32(88, true),
  };
  // 5.3.2: SizeOfPartitionEntry is 128 x 2^n.
  if (header.entrySize < 128 || header.entrySize > 4096 || (header.entrySize & (header.entrySize - 1)) !== 0) return `the header at LBA ${lba} gives entries of ${header.entrySize} bytes`;
  if (header.entryCount > MAX_ENTRIES || header.entryCount * header.entrySize > MAX_ARRAY_BYTES) return `the header at LBA ${lba} claims ${header.entryCount} partition entries of ${header.entrySize} bytes`;
  const lastLba = disk.size / LBA - 1;
  if (header.firstUsable > header.lastUsable || header.lastUsable > lastLba) return `the header at LBA ${lba} gives usable LBAs ${header.firstUsable}-${header.lastUsable} on a disk whose last LBA is ${lastLba}`;
  return header;
}

/**
 * The partitions of a GPT disk (its protective MBR already seen). The primary header is used
 * when valid, else the backup; throws 'bad-partition-table' when neither is, or when an entry
 * lies outside the usable LBAs.
 */
export async function readGpt(disk: DiskReader): Promise<Partition[]> {
  const lastLba = Math.floor(disk.size / LBA) - 1;
  const primary = await readHeader(disk, 1);
  const header = typeof primary !== 'string' ? primary : await readHeader(disk, lastLba);
  if (typeof header === 'string') throw disk.error(`the GPT is not valid: ${primary}; the backup: ${header}`, LBA);
  const arrayBytes = header.entryCount * header.entrySize;
  const entries = await disk.read(header.entriesLba * LBA, arrayBytes);
  if (crc32(entries) !== header.entriesCrc) throw disk.error(`the GPT's partition entry array at LBA ${header.entriesLba} fails its CRC32`, header.entriesLba * LBA);
  const view = new DataView(entries.buffer);
  const partitions: Partition[] = [];
  for (let i = 0; i < header.entryCount; i++) {
    const at = i * header.entrySize;
    const type = guidText(entries.subarray(at, at + 16));
    if (type === '00000000-0000-0000-0000-000000000000') continue; // unused entry
    const first = Number(view.getBigUint64(at + 32, true));
    const last = Number(view.getBigUint64(at + 40, true));
    if (first > last || first < header.firstUsable || last > header.lastUsable) {
      throw disk.error(`GPT entry ${i + 1} spans LBAs ${first}-${last}, outside the usable ${header.firstUsable}-${header.lastUsable}`, header.entriesLba * LBA + at);
    }
    const attributes = view.getBigUint64(at + 48, true);
    const label = Buffer.from(entries.subarray(at + 56, at + 128)).toString('utf16le').replace(/\0.*$/s, '');
    partitions.push({
      number: i + 1,
      offset: first * LBA,
      size: (last - first + 1) * LBA,
      type,
      typeName: gptTypeName(type),
      bootable: (attributes & LEGACY_BIOS_BOOTABLE) !== 0n,
      esp: type === EFI_SYSTEM_GUID,
      ...(label ? { label } : {}),
    });
  }
  return partitions;
}
