// The size of a host block device. Node cannot issue the BLKGETSIZE64 ioctl, so on Linux the
// size comes from sysfs (/sys/dev/block/MAJOR:MINOR/size, always in 512-byte units).

import { readFileSync } from 'node:fs';

/** Linux's dev_t encoding (include/linux/kdev_t.h, new_encode_dev). */
export function deviceNumbers(rdev: number): { major: number; minor: number } {
  const high = Math.floor(rdev / 2 ** 32);
  const low = rdev >>> 0;
  return {
    major: ((low >>> 8) & 0xfff) | ((high & ~0xfff) >>> 0),
    minor: (low & 0xff) | ((low >>> 12) & 0xfff00),
  };
}

/** The device's size in bytes, or null when the host does not say (not Linux, no sysfs). */
export function blockDeviceSize(rdev: number): number | null {
  const { major, minor } = deviceNumbers(rdev);
  try {
    const sectors = Number(readFileSync(`/sys/dev/block/${major}:${minor}/size`, 'utf8').trim());
    return Number.isSafeInteger(sectors) && sectors >= 0 ? sectors * 512 : null;
  } catch {
    return null;
  }
}
