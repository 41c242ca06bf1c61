// The default guest: Debian's own riscv64 kernel, firmware and userland, built once into the
// cache by `vireo image` (or on the first `vireo run`), with a writable copy of the root disk.

import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureDebianImage, vireoCacheRoot, type DebianImage } from '../images/debian-image.js';

/**
 * Default kernel command line for the Debian guest.
 * - Free page reporting in 128 KiB blocks (order 5) rather than 2 MiB: Linux reports only while
 *   a zone has 32 blocks free above its low watermark, which at 2 MiB a small VM (128 MiB)
 *   never has.
 * - No proactive compaction and no pressure stall averaging: they wake an idle guest, kcompactd
 *   every 500 ms and PSI every 2 s once anything ran, which tripled its timer interrupts (6.6
 *   a second against 2). Compaction still runs when an allocation needs it.
 */
export const DEBIAN_APPEND = 'console=ttyS0 root=/dev/vda rw page_reporting.page_reporting_order=5 sysctl.vm.compaction_proactiveness=0 psi=0';
/** Default RAM for a Linux guest, in MiB. */
export const LINUX_RAM_MIB = 512;

/** Builds or verifies the Debian image, reporting progress on stderr. */
export async function prepareDebianImage(): Promise<DebianImage> {
  const started = Date.now();
  let announced = false;
  return ensureDebianImage({
    onProgress: (step, detail) => {
      if (step === 'check' && !announced) announced = true;
      if (step === 'check' || step === 'done') return;
      process.stderr.write(`vireo: [${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${step}: ${detail}\n`);
    },
  });
}

/**
 * The default VM's own root disk: a copy of the image's pristine ext4 made on first use, so
 * the guest's changes persist across runs without touching the cached image.
 */
export function defaultRootDisk(image: DebianImage): string {
  const disk = join(vireoCacheRoot(), 'vms', 'default', 'root.ext4');
  if (!existsSync(disk)) {
    mkdirSync(dirname(disk), { recursive: true });
    copyFileSync(image.rootDisk, disk);
  }
  return disk;
}
