// Where the boot images go in RAM. With --bios none the kernel file runs by itself at its own
// addresses; with firmware (OpenSBI's fw_jump), the firmware sits at the start of RAM and the
// kernel where its Linux image header asks (fw_jump enters it at RAM + 0x200000). The initial
// ramdisk goes high, clear of the kernel and of the device tree copy fw_jump makes.

import { parseKernelImage, type KernelImage, type RamRange } from './elf-loader.js';
import { parseLinuxImage } from './linux-image.js';

export class BootImageError extends Error {
  readonly kind = 'boot-image';
}

/** fw_jump's compiled-in addresses (Debian's opensbi, generic platform). */
export const FW_JUMP_KERNEL_OFFSET = 0x20_0000;
export const FW_JUMP_FDT_OFFSET = 0x220_0000;
/** Room kept for fw_jump's copy of the device tree. */
const FDT_COPY_ROOM = 0x20_0000;
const PAGE = 4096;

/** The files a board boots from. */
export interface BootFiles {
  kernel: Uint8Array;
  firmware?: Uint8Array;
  initrd?: Uint8Array;
}

export interface BootImages {
  /** Everything to copy into RAM, and where the hart starts. */
  image: KernelImage;
  /** The ramdisk's physical range, when there is one. */
  initrd?: { start: number; end: number; data: Uint8Array };
}

/**
 * Lays out firmware, kernel and initrd in RAM below `limit` (where the device tree goes).
 * Throws BootImageError naming what does not fit and what to do.
 */
export function placeBootImages(
  ram: RamRange,
  limit: number,
  kernel: Uint8Array,
  firmware?: Uint8Array,
  initrd?: Uint8Array,
): BootImages {
  let image: KernelImage;
  if (firmware === undefined) {
    image = parseKernelImage(kernel, ram);
  } else {
    if (firmware.length === 0) throw new BootImageError('the firmware file is empty; pass OpenSBI fw_jump.bin');
    const linux = parseLinuxImage(kernel);
    const offset = linux?.textOffset ?? FW_JUMP_KERNEL_OFFSET;
    if (offset !== FW_JUMP_KERNEL_OFFSET) {
      throw new BootImageError(
        `the kernel asks to be loaded at RAM + 0x${offset.toString(16)}, but the firmware enters it at RAM + 0x${FW_JUMP_KERNEL_OFFSET.toString(16)}; use a kernel built for text_offset 0x200000`,
      );
    }
    if (firmware.length > offset) {
      throw new BootImageError(`the firmware is ${firmware.length} bytes and would overlap the kernel at RAM + 0x${offset.toString(16)}; pass fw_jump.bin, not an ELF or a larger image`);
    }
    const kernelBase = ram.base + offset;
    const kernelEnd = kernelBase + (linux?.imageSize ?? kernel.length);
    if (kernelEnd > limit) {
      throw new BootImageError(`${ram.size / 1048576} MiB of RAM cannot hold the kernel (it needs up to 0x${kernelEnd.toString(16)}); raise -m`);
    }
    image = {
      format: 'flat',
      entry: ram.base,
      segments: [
        { paddr: ram.base, data: firmware, memsz: firmware.length },
        { paddr: kernelBase, data: kernel, memsz: kernel.length },
      ],
      end: kernelEnd,
      symbols: new Map(),
    };
  }
  if (initrd === undefined) return { image };

  const start = Math.floor((limit - initrd.length) / PAGE) * PAGE;
  const lowest = Math.max(image.end, firmware !== undefined ? ram.base + FW_JUMP_FDT_OFFSET + FDT_COPY_ROOM : 0);
  if (initrd.length === 0) throw new BootImageError('the initrd file is empty');
  if (start < lowest) {
    throw new BootImageError(
      `${ram.size / 1048576} MiB of RAM cannot hold the ${initrd.length}-byte initrd above the kernel (up to 0x${lowest.toString(16)}); raise -m`,
    );
  }
  return { image, initrd: { start, end: start + initrd.length, data: initrd } };
}

const NO_BYTES = new Uint8Array(0);

/** The same layout with no bytes held, for a board that reads its files again at reset. */
export function withoutBytes(images: BootImages): BootImages {
  return {
    image: { ...images.image, segments: images.image.segments.map((s) => ({ ...s, data: NO_BYTES })) },
    ...(images.initrd ? { initrd: { ...images.initrd, data: NO_BYTES } } : {}),
  };
}

/** Whether two placements put the same amounts at the same places and enter at the same address. */
export function sameLayout(a: BootImages, b: BootImages): boolean {
  const layout = (images: BootImages) => JSON.stringify([
    images.image.entry,
    images.image.end,
    images.image.segments.map((s) => [s.paddr, s.memsz]),
    images.initrd ? [images.initrd.start, images.initrd.end] : null,
  ]);
  return layout(a) === layout(b);
}
