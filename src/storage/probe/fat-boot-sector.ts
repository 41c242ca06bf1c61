// The FAT boot sector and BIOS parameter block (Microsoft FAT specification, 2005, section 3),
// and the type (FAT12/16/32) that follows from the cluster count alone (section 3.5).

import type { DiskReader } from './disk-reader.js';

export interface FatLayout {
  type: 'FAT12' | 'FAT16' | 'FAT32';
  bytesPerSector: number;
  bytesPerCluster: number;
  /** Byte offsets within the partition. */
  fatOffset: number;
  /** FAT12/16: the fixed root directory; FAT32: 0. */
  rootDirOffset: number;
  rootDirBytes: number;
  dataOffset: number;
  /** Valid cluster numbers are 2 .. clusterCount + 1. */
  clusterCount: number;
  /** FAT32: the root directory's first cluster. */
  rootCluster: number;
}

/** Whether the window starts with something shaped like a FAT boot sector (jump instruction, sector size, signature). */
export async function looksLikeFat(part: DiskReader): Promise<boolean> {
  if (part.size < 512) return false;
  const sector = await part.read(0, 512);
  const bytesPerSector = sector[11]! | (sector[12]! << 8);
  // NTFS and exFAT start alike (jump, signature) and name themselves where FAT keeps its OEM name.
  const oem = Buffer.from(sector.subarray(3, 11)).toString('latin1');
  if (oem === 'NTFS    ' || oem === 'EXFAT   ') return false;
  return (sector[0] === 0xeb || sector[0] === 0xe9) && [512, 1024, 2048, 4096].includes(bytesPerSector) && sector[510] === 0x55 && sector[511] === 0xaa;
}

/** Reads and checks the BPB; throws 'bad-file-system' naming the field at fault. */
export async function readFatLayout(part: DiskReader): Promise<FatLayout> {
  const sector = await part.read(0, 512);
  const view = new DataView(sector.buffer);
  const bad = (why: string) => part.error(`the FAT boot sector is not valid: ${why}`, 0);
  const bytesPerSector = view.getUint16(11, true);
  const sectorsPerCluster = sector[13]!;
  const reserved = view.getUint16(14, true);
  const fats = sector[16]!;
  const rootEntries = view.getUint16(17, true);
  const totalSectors = view.getUint16(19, true) || view.getUint32(32, true);
  const fatSectors = view.getUint16(22, true) || view.getUint32(36, true);
  if (![512, 1024, 2048, 4096].includes(bytesPerSector)) throw bad(`BPB_BytsPerSec is ${bytesPerSector}`);
  if (sectorsPerCluster === 0 || (sectorsPerCluster & (sectorsPerCluster - 1)) !== 0) throw bad(`BPB_SecPerClus is ${sectorsPerCluster}`);
  if (reserved === 0 || fats === 0 || fatSectors === 0) throw bad(`${reserved} reserved sectors, ${fats} FATs of ${fatSectors} sectors`);
  if (totalSectors * bytesPerSector > part.size) throw bad(`${totalSectors} sectors of ${bytesPerSector} bytes do not fit in the ${part.size}-byte partition`);
  const rootDirSectors = Math.ceil((rootEntries * 32) / bytesPerSector);
  const firstDataSector = reserved + fats * fatSectors + rootDirSectors;
  if (firstDataSector >= totalSectors) throw bad(`the data region would start at sector ${firstDataSector} of ${totalSectors}`);
  const clusterCount = Math.floor((totalSectors - firstDataSector) / sectorsPerCluster);
  const type = clusterCount < 4085 ? 'FAT12' : clusterCount < 65525 ? 'FAT16' : 'FAT32';
  // The FAT must hold an entry for every cluster (section 3.5's FATSz computation, checked the other way).
  const entryBits = type === 'FAT12' ? 12 : type === 'FAT16' ? 16 : 32;
  if (Math.ceil(((clusterCount + 2) * entryBits) / 8) > fatSectors * bytesPerSector) throw bad(`a FAT of ${fatSectors} sectors cannot map ${clusterCount} clusters`);
  const rootCluster = type === 'FAT32' ? view.getUint32(44, true) : 0;
  if (type === 'FAT32' && (rootEntries !== 0 || rootCluster < 2 || rootCluster > clusterCount + 1)) throw bad(`FAT32 with ${rootEntries} fixed root entries and root cluster ${rootCluster}`);
  return {
    type,
    bytesPerSector,
    bytesPerCluster: sectorsPerCluster * bytesPerSector,
    fatOffset: reserved * bytesPerSector,
    rootDirOffset: (reserved + fats * fatSectors) * bytesPerSector,
    rootDirBytes: rootDirSectors * bytesPerSector,
    dataOffset: firstDataSector * bytesPerSector,
    clusterCount,
    rootCluster,
  };
}
