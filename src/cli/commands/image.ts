// `vireo image`: builds (first time) or verifies the default Debian guest image in the cache
// and prints where its parts are.

import { prepareDebianImage } from '../default-guest.js';
import { UsageError } from '../usage-error.js';
import { imageCompleteCommand } from './image-complete.js';

export const IMAGE_HELP = `Usage: vireo image
       vireo image complete [--user NAME] [--password-file FILE] [--authorized-keys FILE] [--size GIB] [--output FILE]

Builds the default guest from Debian's own riscv64 packages (trixie): OpenSBI, the kernel,
an initramfs with the virtio and ext4 modules, and an ext4 root disk with a small userland.
Downloads with apt from the machine's own Debian mirror; caches everything outside the
repository ($VIREO_CACHE, else $XDG_CACHE_HOME/vireo, else ~/.cache/vireo) with a manifest of
package versions and hashes. A second run only verifies the cache.

\`vireo image complete\` builds a complete Debian system as a bootable disk image instead
(\`vireo image complete --help\`).
`;

export async function imageCommand(argv: string[]): Promise<number> {
  if (argv[0] === 'complete') return imageCompleteCommand(argv.slice(1));
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(IMAGE_HELP);
    return 0;
  }
  if (argv.length > 0) throw new UsageError('image', `unexpected argument ${argv[0]}`);
  const image = await prepareDebianImage();
  process.stdout.write(
    `firmware  ${image.firmware}\nkernel    ${image.kernel} (${image.versions.kernelRelease})\n` +
    `initrd    ${image.initrd}\nroot disk ${image.rootDisk}\nmanifest  ${image.manifest}\n`,
  );
  return 0;
}
