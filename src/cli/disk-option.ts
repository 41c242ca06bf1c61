// `vireo run --disk FILE[,ro][,format=raw|qcow2][,iops=N,...]`: a disk image and how to attach it.
// The I/O limit keys are handed to the QoS layer, which checks their values.

import { DISK_FORMATS, type DiskFormat } from '../storage/disk-image.js';
import { UsageError } from './usage-error.js';

export const IO_LIMIT_KEYS = ['iops', 'iops-rd', 'iops-wr', 'bps', 'bps-rd', 'bps-wr', 'iops-burst', 'bps-burst'] as const;

export interface DiskOption {
  path: string;
  readOnly: boolean;
  /** Absent: detected from the image's header. */
  format?: DiskFormat;
  /** I/O limits by key (IO_LIMIT_KEYS), values as given. */
  limits: Record<string, string>;
}

export const DISK_OPTION_HELP = `FILE[,ro][,format=raw|qcow2][,iops=N][,bps=N]...`;

export function parseDiskOption(text: string): DiskOption {
  const [path, ...parts] = text.split(',');
  if (path === undefined || path === '') throw new UsageError('run', `--disk takes ${DISK_OPTION_HELP}, got '${text}'`);
  const disk: DiskOption = { path, readOnly: false, limits: {} };
  for (const part of parts) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (key === 'ro' && eq < 0) disk.readOnly = true;
    else if (key === 'format' && (DISK_FORMATS as readonly string[]).includes(value)) disk.format = value as DiskFormat;
    else if (key === 'format') throw new UsageError('run', `--disk format= takes ${DISK_FORMATS.join(' or ')}, got '${value}'`);
    else if ((IO_LIMIT_KEYS as readonly string[]).includes(key) && value !== '') disk.limits[key] = value;
    else throw new UsageError('run', `--disk does not know '${part}' in '${text}'; it takes ro, format=raw|qcow2 and the limits ${IO_LIMIT_KEYS.map((k) => `${k}=N`).join(', ')}`);
  }
  return disk;
}
