// `vireo image complete`: builds (first time) or verifies the complete Debian disk image, whose
// second stage runs in a Vireo VM, and prints where it is.

import { ensureCompleteDebian } from '../../images/complete-debian.js';
import { ImageError } from '../../images/image-error.js';
import type { CompleteDebianOptions } from '../../images/complete-debian.js';
import { UsageError } from '../usage-error.js';

export const IMAGE_COMPLETE_HELP = `Usage: vireo image complete [--user NAME] [--password-file FILE] [--authorized-keys FILE] [--size GIB] [--output FILE]

Builds a complete Debian trixie riscv64 system as a disk image (qcow2, thin): a GPT with an ext4
/boot (U-Boot's extlinux menu, written by u-boot-menu) and an ext4 root; systemd, apt from the
machine's own Debian mirror, DHCP by systemd-networkd, OpenSSH, sudo, a serial getty on ttyS0.
The host unpacks the required packages; the rest is installed and configured by dpkg inside a
Vireo VM booted on the half-built disk (15 to 30 minutes). Cached with a manifest; a second run
only verifies the image. Boot it with \`vireo run IMAGE\` (a copy, or an overlay).

  --user NAME            The login, in the sudo group (default debian).
  --password-file FILE   Its password, the file's first line (default: generated, kept in the
                         cache directory's password file, mode 0600).
  --authorized-keys FILE Its ~/.ssh/authorized_keys.
  --size GIB             The root file system's size (default 4).
  --output FILE          Also copy the image to FILE.
`;

/** Options of `vireo image complete`. */
export function parseImageCompleteArguments(argv: readonly string[]): CompleteDebianOptions {
  const options: CompleteDebianOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (value === undefined || !['--user', '--password-file', '--authorized-keys', '--size', '--output'].includes(flag)) {
      throw new UsageError('image', value === undefined && flag.startsWith('--') ? `${flag} needs a value` : `unexpected argument ${flag}`);
    }
    i++;
    if (flag === '--user') options.user = value;
    else if (flag === '--password-file') options.passwordFile = value;
    else if (flag === '--authorized-keys') options.authorizedKeysFile = value;
    else if (flag === '--output') options.output = value;
    else {
      if (!/^\d+$/.test(value)) throw new UsageError('image', `--size takes a whole number of GiB, not ${value}`);
      options.sizeGiB = Number(value);
    }
  }
  return options;
}

export async function imageCompleteCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(IMAGE_COMPLETE_HELP);
    return 0;
  }
  const started = Date.now();
  const options = parseImageCompleteArguments(argv);
  let image;
  try {
    image = await ensureCompleteDebian({
      ...options,
      onProgress: (step, detail) => {
        if (step !== 'check') process.stderr.write(`vireo: [${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${step}: ${detail}\n`);
      },
    });
  } catch (error) {
    if (!(error instanceof ImageError)) throw error;
    process.stderr.write(`vireo image complete: ${error.message}\n`);
    return 1;
  }
  const m = image.manifest;
  process.stdout.write(
    `image     ${image.image} (${(m.output.size / 1e6).toFixed(0)} MB, qcow2; Linux ${m.kernelVersion}, ${m.packages.length} packages)\n` +
      `user      ${image.user}${image.passwordFile ? ` (password in ${image.passwordFile})` : ''}\n` +
      `manifest  ${image.manifestFile}\n` +
      (image.output ? `copied to ${image.output}\n` : ''),
  );
  return 0;
}
