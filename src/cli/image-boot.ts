// `vireo run IMAGE`: a disk image booted the way QEMU boots it, through OpenSBI and U-Boot,
// which starts the kernel the image itself holds. The image is probed first, so an image with
// nothing U-Boot can boot is refused with what was looked for instead of a U-Boot prompt.

import { ensureBootFirmware } from '../images/boot-firmware.js';
import { openDiskImage } from '../storage/disk-image.js';
import { probeBootDisk } from '../storage/probe/boot-probe.js';
import { requireBootable } from '../storage/probe/boot-probe-report.js';

/** Checks that U-Boot can boot `image`, then returns OpenSBI and U-Boot, its payload (fetched on first use). Throws ProbeError when nothing on it boots. */
export async function prepareImageBoot(image: string, log: (line: string) => void): Promise<{ openSbi: string; uBoot: string }> {
  const disk = await openDiskImage(image, { readOnly: true });
  let verdict;
  try {
    verdict = requireBootable(await probeBootDisk(disk, image));
  } finally {
    await disk.close();
  }
  log('boots' in verdict ? `booting ${image} through U-Boot: ${verdict.boots}` : `${verdict.warning}; booting it through U-Boot anyway`);
  const firmware = await ensureBootFirmware({ onProgress: log });
  return { openSbi: firmware.openSbi, uBoot: firmware.uBoot };
}
