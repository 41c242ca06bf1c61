// Turns a BootProbe into the verdict `vireo run IMAGE` acts on: boot, boot with a warning
// (the probe could not read a partition U-Boot scans), or a 'not-bootable' error that names
// what was looked for, where, and what the image holds.

import { type BootProbe, type PartitionFinding } from './boot-probe.js';
import { ProbeError } from './probe-error.js';

function size(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

function describePartition(f: PartitionFinding): string {
  const p = f.partition;
  const flags = [p.bootable ? 'marked bootable' : '', p.label ? `"${p.label}"` : ''].filter(Boolean).join(', ');
  const head = `  ${p.number}: ${p.typeName} (${p.type})${flags ? `, ${flags}` : ''}, ${size(p.size)}`;
  const content = f.problem ? `unreadable: ${f.problem.message}`
    : !f.fileSystem ? 'no ext2/3/4 or FAT file system'
    : f.bootFiles.length > 0 ? `${f.fileSystem} with ${f.bootFiles.map((b) => b.path.slice(1)).join(', ')}`
    : `${f.fileSystem}, none of those files`;
  return `${head}: ${content}${f.scanned ? '' : ' (not scanned)'}`;
}

const LOOKED_FOR = `extlinux/extlinux.conf or boot/extlinux/extlinux.conf (on ext2/3/4 or FAT), EFI/BOOT/BOOTRISCV64.EFI (an EFI application such as GRUB, on an EFI system partition) or a boot.scr script`;

/** A human summary of the probe, one line per partition. */
export function describeBootProbe(probe: BootProbe): string {
  if (!probe.scheme) {
    const fs = probe.wholeDisk ? `; it is one ${probe.wholeDisk} file system, which U-Boot does not boot without a partition table around it` : '';
    return `${probe.disk} has no partition table (neither a GPT nor an MBR)${fs}; U-Boot's standard boot reads only partitions`;
  }
  const anyBootable = probe.partitions.some((f) => f.partition.bootable);
  const scope = anyBootable ? 'the partitions marked bootable and EFI system partitions' : 'partition 1 only, as no partition is marked bootable';
  const lines = [`${probe.disk}: ${probe.scheme === 'gpt' ? 'GPT' : 'MBR'} with ${probe.partitions.length} partition${probe.partitions.length === 1 ? '' : 's'}; U-Boot scans ${scope}:`];
  lines.push(...probe.partitions.map(describePartition));
  return lines.join('\n');
}

/**
 * Returns what boots, or a warning when the probe cannot tell; throws ProbeError 'not-bootable'
 * when U-Boot would find nothing, with the whole picture and what to change.
 */
export function requireBootable(probe: BootProbe): { boots: string } | { warning: string } {
  if (probe.boot) return { boots: `partition ${probe.boot.partition}: ${probe.boot.path.slice(1)} (${probe.boot.method})` };
  const unreadable = probe.partitions.filter((f) => f.scanned && f.problem?.kind === 'unsupported');
  if (unreadable.length > 0) return { warning: `cannot tell whether U-Boot can boot ${probe.disk}: ${unreadable.map((f) => f.problem!.message).join('; ')}` };
  const hints: string[] = [];
  const elsewhere = probe.partitions.find((f) => !f.scanned && f.bootFiles.length > 0);
  if (elsewhere) {
    const n = elsewhere.partition.number;
    const how = probe.scheme === 'gpt' ? `set its legacy BIOS bootable attribute (sfdisk --part-attrs ${probe.disk} ${n} LegacyBIOSBootable)` : `set its boot flag (sfdisk --activate ${probe.disk} ${n})`;
    hints.push(`partition ${elsewhere.partition.number} has ${elsewhere.bootFiles[0]!.path.slice(1)} but U-Boot does not scan it: ${how}`);
  }
  const message = [`nothing on ${probe.disk} that U-Boot can boot: it looks for ${LOOKED_FOR}.`, describeBootProbe(probe), ...hints].join('\n');
  throw new ProbeError('not-bootable', message, { disk: probe.disk });
}
