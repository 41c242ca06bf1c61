// How a virtio device reaches guest RAM: the board implements DmaMemory over its RAM, tests over
// a plain byte array. Every access is bounds-checked, so a hostile guest address becomes a
// null/false (then a device error status), never a read outside the VM's own RAM.

/**
 * Guest-physical memory as a device sees it. Addresses are plain numbers: virtio addresses are
 * 64-bit, and any address at or above 2^53 is outside RAM anyway, so losing its low bits is harmless.
 */
export interface DmaMemory {
  /**
   * The bytes at [paddr, paddr + length), or null when any of them is outside guest RAM.
   * The result may be a view aliasing guest RAM (zero copy): treat it as read-only and copy
   * what you keep past the current device operation.
   */
  read(paddr: number, length: number): Uint8Array | null;
  /** Copies `data` to [paddr, paddr + data.length); false (and nothing written) when outside guest RAM. */
  write(paddr: number, data: Uint8Array): boolean;
}

/** Little-endian 16-bit load, or null outside RAM. */
export function readU16(memory: DmaMemory, paddr: number): number | null {
  const b = memory.read(paddr, 2);
  return b === null ? null : b[0]! | (b[1]! << 8);
}

/** Little-endian 32-bit load (unsigned), or null outside RAM. */
export function readU32(memory: DmaMemory, paddr: number): number | null {
  const b = memory.read(paddr, 4);
  return b === null ? null : (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

/** Little-endian 16-bit store; false outside RAM. */
export function writeU16(memory: DmaMemory, paddr: number, value: number): boolean {
  return memory.write(paddr, Uint8Array.of(value & 0xff, (value >>> 8) & 0xff));
}

/** Little-endian 32-bit store; false outside RAM. */
export function writeU32(memory: DmaMemory, paddr: number, value: number): boolean {
  return memory.write(paddr, Uint8Array.of(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff));
}
