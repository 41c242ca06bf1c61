// The boot files of a VM that was started elsewhere or earlier (a snapshot, a migration): read
// from the description's paths and checked against the digests it recorded, since a guest
// reboot loads them again and must find the same firmware, kernel and initrd.

import { createHash } from 'node:crypto';
import type { BootFileRef, VmDescription } from './vm-description.js';
import type { BootBytes } from './virtual-machine.js';

export type BootRole = 'kernel' | 'firmware' | 'initrd';

export class BootFilesError extends Error {
  readonly kind = 'boot-files';
}

export function readBootFiles(description: VmDescription, read: (role: BootRole, path: string) => Uint8Array): BootBytes {
  const load = (role: BootRole, ref: BootFileRef): Uint8Array => {
    const bytes = read(role, ref.path);
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (ref.sha256 !== undefined && digest !== ref.sha256) {
      throw new BootFilesError(`the ${role} ${ref.path} is not the one the VM was started from (its sha256 differs); the guest could not reboot from it. Put the original file back`);
    }
    return bytes;
  };
  const { kernel, firmware, initrd } = description.boot;
  return {
    kernel: load('kernel', kernel),
    ...(firmware ? { firmware: load('firmware', firmware) } : {}),
    ...(initrd ? { initrd: load('initrd', initrd) } : {}),
  };
}
