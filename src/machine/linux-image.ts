// The RISC-V Linux kernel image header (Linux: Documentation/arch/riscv/boot-image-header.rst):
// where the kernel wants to sit above the start of RAM and how much memory it needs.

export interface LinuxImage {
  /** Offset from the start of RAM at which the image must be loaded. */
  textOffset: number;
  /** Bytes the kernel occupies once running (text, data and bss). */
  imageSize: number;
}

const HEADER_SIZE = 64;
const MAGIC2 = 0x05435352; // "RSC\x05" at 0x38, little-endian
const LEGACY_MAGIC = 'RISCV\0\0\0'; // at 0x30

/** The header's fields when `bytes` starts with a RISC-V Linux image header, else null. */
export function parseLinuxImage(bytes: Uint8Array): LinuxImage | null {
  if (bytes.length < HEADER_SIZE) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const legacy = String.fromCharCode(...bytes.subarray(0x30, 0x38));
  if (view.getUint32(0x38, true) !== MAGIC2 && legacy !== LEGACY_MAGIC) return null;
  const textOffset = Number(view.getBigUint64(0x08, true));
  const imageSize = Number(view.getBigUint64(0x10, true));
  return { textOffset, imageSize: Math.max(imageSize, bytes.length) };
}
