// The one error class of the boot probe: reading a disk image's partition table and file
// systems to find what U-Boot would boot. `kind` is stable for callers and tests.

export type ProbeErrorKind =
  | 'bad-partition-table' // a GPT or MBR that contradicts itself or points outside the disk
  | 'bad-file-system' // an ext2/3/4 or FAT structure that is corrupt or hostile (loops, blocks out of range)
  | 'unsupported' // a valid structure the probe does not read (ext4 meta_bg, inline data, encryption)
  | 'too-much-work' // the probe read more than its budget: a hostile image, stopped rather than hung
  | 'not-bootable'; // nothing on the image that U-Boot's standard boot would start

export interface ProbeErrorContext {
  /** The disk image (path or name). */
  disk?: string;
  /** 1-based partition number, when the problem is inside one. */
  partition?: number;
  /** Byte offset on the disk of the structure at fault. */
  offset?: number;
}

export class ProbeError extends Error {
  override readonly name = 'ProbeError';

  constructor(
    readonly kind: ProbeErrorKind,
    message: string,
    readonly context: ProbeErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
