// Per-disk I/O limits as the user gives them (`--disk FILE,iops=500,bps=10M`) and as the
// throttle takes them.

import { QosError } from './qos-error.js';

/** All optional; absent or 0 means unlimited. */
export interface IoLimits {
  /** Operations per second: all kinds, reads only, writes only. */
  iops?: number;
  iopsRead?: number;
  iopsWrite?: number;
  /** Bytes per second: reads and writes, reads only, writes only. */
  bps?: number;
  bpsRead?: number;
  bpsWrite?: number;
  /**
   * Bucket sizes, how much may pass at once after the disk was idle; each applies to every
   * IOPS (resp. bandwidth) bucket. Default: one second's worth, at least one operation.
   */
  iopsBurst?: number;
  bpsBurst?: number;
}

/** The option keys parseIoLimits reads, and the field each sets. */
export const IO_LIMIT_KEYS: Readonly<Record<string, keyof IoLimits>> = {
  'iops': 'iops',
  'iops-rd': 'iopsRead',
  'iops-wr': 'iopsWrite',
  'bps': 'bps',
  'bps-rd': 'bpsRead',
  'bps-wr': 'bpsWrite',
  'iops-burst': 'iopsBurst',
  'bps-burst': 'bpsBurst',
};

const SUFFIX: Record<string, number> = { '': 1, 'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3 };

/**
 * Reads the limit keys of a disk's options (other keys, such as `format`, belong to other
 * layers and are ignored). Operation counts are plain numbers; byte rates and the byte burst
 * also take a binary K, M or G suffix (`4M` is 4194304 bytes per second).
 */
export function parseIoLimits(options: Record<string, string>): IoLimits {
  const limits: IoLimits = {};
  for (const [key, text] of Object.entries(options)) {
    const field = IO_LIMIT_KEYS[key];
    if (field === undefined) continue;
    const bytes = key.startsWith('bps');
    const m = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(text.trim());
    if (!m || (!bytes && m[2] !== '')) {
      const form = bytes ? 'a number of bytes, optionally with a K, M or G suffix (e.g. 10M)' : 'a number of operations (e.g. 500)';
      throw new QosError('bad-limit', `disk option ${key}=${text} is not valid: give ${form}, or 0 for no limit`, key);
    }
    const value = Number(m[1]) * SUFFIX[m[2]!.toLowerCase()]!;
    if (!Number.isFinite(value) || value > Number.MAX_SAFE_INTEGER) {
      throw new QosError('bad-limit', `disk option ${key}=${text} is too large`, key);
    }
    limits[field] = value;
  }
  checkIoLimits(limits);
  return limits;
}

/** Throws a QosError unless every field present is a finite number >= 0. */
export function checkIoLimits(limits: IoLimits): void {
  for (const [key, field] of Object.entries(IO_LIMIT_KEYS)) {
    const value = limits[field];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new QosError('bad-limit', `I/O limit ${field} (${key}) is ${String(value)}: it must be a finite number >= 0 (0 for no limit)`, key);
    }
  }
}
