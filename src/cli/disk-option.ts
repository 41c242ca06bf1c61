// `vireo run --disk FILE[,ro][,format=raw|qcow2][,iops=N,...]`: a disk image and how to attach it.
// The I/O limit keys and their values are the QoS layer's (parseIoLimits).

import { DISK_FORMATS, type DiskFormat } from '../storage/disk-image.js';
import { IO_LIMIT_KEYS, parseIoLimits, type IoLimits } from '../storage/qos/io-limits.js';
import { QosError } from '../storage/qos/qos-error.js';
import { UsageError } from './usage-error.js';

export interface DiskOption {
  path: string;
  readOnly: boolean;
  /** Absent: detected from the image's header. */
  format?: DiskFormat;
  /** Empty when the disk has no limits. */
  limits: IoLimits;
}

export const DISK_OPTION_HELP = `FILE[,ro][,format=raw|qcow2][,iops=N][,bps=N]...`;

export function parseDiskOption(text: string): DiskOption {
  const [path, ...parts] = text.split(',');
  if (path === undefined || path === '') throw new UsageError('run', `--disk takes ${DISK_OPTION_HELP}, got '${text}'`);
  const disk: DiskOption = { path, readOnly: false, limits: {} };
  const limits: Record<string, string> = {};
  for (const part of parts) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (key === 'ro' && eq < 0) disk.readOnly = true;
    else if (key === 'format' && (DISK_FORMATS as readonly string[]).includes(value)) disk.format = value as DiskFormat;
    else if (key === 'format') throw new UsageError('run', `--disk format= takes ${DISK_FORMATS.join(' or ')}, got '${value}'`);
    else if (Object.hasOwn(IO_LIMIT_KEYS, key) && value !== '') limits[key] = value;
    else throw new UsageError('run', `--disk does not know '${part}' in '${text}'; it takes ro, format=raw|qcow2 and the limits ${Object.keys(IO_LIMIT_KEYS).map((k) => `${k}=N`).join(', ')}`);
  }
  try {
    disk.limits = parseIoLimits(limits);
  } catch (e) {
    if (e instanceof QosError) throw new UsageError('run', e.message);
    throw e;
  }
  return disk;
}
