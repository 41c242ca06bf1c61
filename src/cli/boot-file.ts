// Reads the files a VM boots from (firmware, kernel, initrd): regular files of a sane size
// only, opened so that a FIFO or a device given by mistake is refused at once, not read forever.

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export type BootFileRole = 'kernel' | 'firmware' | 'initrd';

export class BootFileError extends Error {
  readonly kind = 'boot-file';
  constructor(readonly role: BootFileRole, readonly path: string, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

const MIB = 1024 * 1024;
/**
 * The largest file accepted for each role. Firmware (OpenSBI, U-Boot) is well under 2 MiB;
 * a kernel ELF with debug information can pass 500 MiB; an initrd must fit in RAM anyway.
 */
export const BOOT_FILE_LIMITS: Record<BootFileRole, number> = {
  firmware: 64 * MIB,
  kernel: 1024 * MIB,
  initrd: 4096 * MIB,
};

/** The whole file, after checking it is a regular file of at most `maxBytes` bytes. */
export function readBootFile(role: BootFileRole, path: string, maxBytes = BOOT_FILE_LIMITS[role]): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message;
    throw new BootFileError(role, path, `cannot read ${role} file ${path}: ${reason}`, { cause });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      const what = stat.isDirectory() ? 'a directory' : stat.isFIFO() ? 'a pipe (FIFO)' : stat.isSocket() ? 'a socket' : 'a device';
      throw new BootFileError(role, path, `cannot use ${path} as the ${role}: it is ${what}, not a regular file`);
    }
    if (stat.size > maxBytes) {
      throw new BootFileError(role, path, `cannot use ${path} as the ${role}: it is ${stat.size} bytes, more than the ${maxBytes / MIB} MiB a ${role} may be`);
    }
    // Exactly the size fstat reported, so a file that grows while being read cannot run on.
    const bytes = new Uint8Array(stat.size);
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, done);
      if (n === 0) break;
      done += n;
    }
    return done === bytes.length ? bytes : bytes.subarray(0, done);
  } catch (e) {
    if (e instanceof BootFileError) throw e;
    throw new BootFileError(role, path, `cannot read ${role} file ${path}: ${(e as Error).message}`, { cause: e });
  } finally {
    closeSync(fd);
  }
}
