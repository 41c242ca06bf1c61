// What U-Boot's standard boot would find on a disk image, read before booting it: the partition
// table, the partitions U-Boot scans, and on each a file system holding an extlinux
// configuration, an EFI application or a boot script. U-Boot 2025.01 (bootdev_find_in_blk)
// scans only the partitions marked bootable (and EFI system partitions) when any is marked,
// else only partition 1; it tries up to 30 partitions.

import type { BlockBackend } from '../block-backend.js';
import { DiskReader, type ReadBudget } from './disk-reader.js';
import { Ext4Volume } from './ext4-volume.js';
import { hasExt4Magic } from './ext4-superblock.js';
import { FatVolume } from './fat-volume.js';
import { looksLikeFat } from './fat-boot-sector.js';
import type { FileSystem } from './file-system.js';
import type { Partition } from './partition.js';
import { readPartitionTable } from './partition-table.js';
import { ProbeError } from './probe-error.js';

export type BootMethod = 'extlinux' | 'efi' | 'script';

/** The files each of U-Boot's boot methods looks for, in the order it tries them. */
export const BOOT_FILES: ReadonlyArray<{ method: BootMethod; path: string }> = [
  { method: 'extlinux', path: '/extlinux/extlinux.conf' },
  { method: 'extlinux', path: '/boot/extlinux/extlinux.conf' },
  { method: 'efi', path: '/EFI/BOOT/BOOTRISCV64.EFI' },
  { method: 'script', path: '/boot.scr.uimg' },
  { method: 'script', path: '/boot.scr' },
  { method: 'script', path: '/boot/boot.scr.uimg' },
  { method: 'script', path: '/boot/boot.scr' },
];

const MAX_SCANNED_PARTITION = 30;

export interface PartitionFinding {
  partition: Partition;
  /** Whether U-Boot's scan reaches this partition. */
  scanned: boolean;
  /** The file system found ('ext4', 'FAT16', ...), if any. */
  fileSystem?: string;
  /** Boot files present, in the order U-Boot tries them. */
  bootFiles: Array<{ method: BootMethod; path: string }>;
  /** Why the partition could not be read (corrupt, unsupported). */
  problem?: ProbeError;
}

export interface BootProbe {
  disk: string;
  scheme: 'gpt' | 'mbr' | undefined;
  /** With no partition table: the file system on the whole disk, if any (U-Boot does not boot one). */
  wholeDisk?: string;
  partitions: PartitionFinding[];
  /** What U-Boot boots: the first scanned partition with a boot file, and that file. */
  boot?: { partition: number; method: BootMethod; path: string };
}

async function openFileSystem(part: DiskReader): Promise<FileSystem | undefined> {
  if (await hasExt4Magic(part)) return Ext4Volume.open(part);
  if (await looksLikeFat(part)) return FatVolume.open(part);
  return undefined;
}

async function examine(disk: DiskReader, partition: Partition, scanned: boolean): Promise<PartitionFinding> {
  const finding: PartitionFinding = { partition, scanned, bootFiles: [] };
  try {
    const fs = await openFileSystem(disk.partitionWindow(partition.number, partition.offset, partition.size));
    if (!fs) return finding;
    finding.fileSystem = fs.type;
    for (const file of BOOT_FILES) {
      const kind = await fs.lookup(file.path);
      // U-Boot follows a symbolic link; the probe takes one at its word.
      if (kind === 'file' || kind === 'symlink') finding.bootFiles.push(file);
    }
  } catch (e) {
    if (!(e instanceof ProbeError) || e.kind === 'too-much-work') throw e;
    finding.problem = e;
  }
  return finding;
}

/** Probes a disk (read only). Throws ProbeError for a corrupt partition table or a hostile image. */
export async function probeBootDisk(backend: BlockBackend, name: string, budget?: ReadBudget): Promise<BootProbe> {
  const disk = DiskReader.forDisk(backend, { name, ...(budget ? { budget } : {}) });
  const table = await readPartitionTable(disk);
  if (!table) {
    const whole = disk.size > 0 ? await examine(disk, { number: 1, offset: 0, size: disk.size, type: '', typeName: 'whole disk', bootable: false, esp: false }, false) : undefined;
    return { disk: name, scheme: undefined, partitions: [], ...(whole?.fileSystem ? { wholeDisk: whole.fileSystem } : {}) };
  }
  const anyBootable = table.partitions.some((p) => p.bootable);
  const partitions: PartitionFinding[] = [];
  for (const partition of table.partitions) {
    const scanned = partition.number <= MAX_SCANNED_PARTITION && (anyBootable ? partition.bootable || partition.esp : partition.number === 1);
    partitions.push(await examine(disk, partition, scanned));
  }
  const chosen = partitions.find((f) => f.scanned && f.bootFiles.length > 0);
  return {
    disk: name,
    scheme: table.scheme,
    partitions,
    ...(chosen ? { boot: { partition: chosen.partition.number, ...chosen.bootFiles[0]! } } : {}),
  };
}
