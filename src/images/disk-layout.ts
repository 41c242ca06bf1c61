// The complete Debian's disk: a GPT with a boot partition (ext4 /boot, marked legacy-BIOS
// bootable, where U-Boot's standard boot finds extlinux/extlinux.conf) and the ext4 root,
// written by sfdisk into a sparse raw file with each file system copied in at its offset.

import { closeSync, ftruncateSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { ImageError } from './image-error.js';
import { checkTool } from './run-tool.js';

const MiB = 1024 * 1024;

/** GPT partition types (UEFI spec; the Discoverable Partitions Specification for the root). */
export const PARTITION_TYPES = {
  linux: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
  rootRiscv64: '72EC70A6-CF74-40E6-BD49-4BDA08E8F224',
} as const;

export interface PlannedPartition {
  name: string;
  /** In bytes from the start of the disk; a multiple of 1 MiB. */
  offset: number;
  size: number;
  type: string;
  bootable: boolean;
}

export interface DiskLayout {
  size: number;
  partitions: PlannedPartition[];
}

/** 1 MiB in front (the GPT and alignment), the boot and root partitions, 1 MiB behind for the backup GPT. */
export function planDiskLayout(bootBytes: number, rootBytes: number): DiskLayout {
  for (const [name, bytes] of [['boot', bootBytes], ['root', rootBytes]] as const) {
    if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes % MiB !== 0) throw new ImageError('bad-option', `the ${name} file system is ${bytes} bytes, not a whole number of MiB`, { step: 'disk' });
  }
  const boot: PlannedPartition = { name: 'boot', offset: MiB, size: bootBytes, type: PARTITION_TYPES.linux, bootable: true };
  const root: PlannedPartition = { name: 'root', offset: boot.offset + bootBytes, size: rootBytes, type: PARTITION_TYPES.rootRiscv64, bootable: false };
  return { size: root.offset + rootBytes + MiB, partitions: [boot, root] };
}

/** sfdisk's input for a layout (sectors of 512 bytes). */
export function sfdiskScript(layout: DiskLayout): string {
  const lines = layout.partitions.map((p) =>
    `start=${p.offset / 512}, size=${p.size / 512}, type=${p.type}, name="${p.name}"${p.bootable ? ', attrs="LegacyBIOSBootable"' : ''}`,
  );
  return `label: gpt\n${lines.join('\n')}\n`;
}

/** Copies `source` into `fd` at `offset`, skipping blocks of zeros so the target stays sparse. */
function copySparse(source: string, fd: number, offset: number): void {
  const input = openSync(source, 'r');
  const buffer = Buffer.alloc(MiB);
  const zero = Buffer.alloc(MiB);
  try {
    for (let at = 0; ; at += MiB) {
      const n = readSync(input, buffer, 0, MiB, at);
      if (n === 0) break;
      if (!buffer.subarray(0, n).equals(zero.subarray(0, n))) writeSync(fd, buffer, 0, n, offset + at);
    }
  } finally {
    closeSync(input);
  }
}

/** Writes a raw disk at `path` with the layout's GPT and each partition's file system image. */
export async function writeRawDisk(path: string, layout: DiskLayout, images: readonly string[]): Promise<void> {
  layout.partitions.forEach((p, i) => {
    const size = statSync(images[i]!).size;
    if (size !== p.size) throw new ImageError('tool-failed', `${images[i]} is ${size} bytes, but the ${p.name} partition is ${p.size}`, { step: 'disk', path: images[i] });
  });
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, layout.size);
  } finally {
    closeSync(fd);
  }
  await checkTool('sh', ['-c', 'printf "%s" "$1" | sfdisk -q "$2"', 'sh', sfdiskScript(layout), path], { step: 'disk' });
  const out = openSync(path, 'r+');
  try {
    layout.partitions.forEach((p, i) => copySparse(images[i]!, out, p.offset));
  } finally {
    closeSync(out);
  }
}
