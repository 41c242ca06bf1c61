// What a hart sees outside its RAM: the physical address space of the board's devices.

/**
 * The board implements this for every physical address outside RAM. Accesses are 1, 2 or 4
 * bytes; an aligned 8-byte access goes through read64/write64 when the bus has them, otherwise
 * the hart splits it into two 4-byte ones, low word first.
 */
export interface SystemBus {
  /** The value, zero-extended, or -1 when nothing answers there (the hart raises an access fault). */
  read(paddr: number, size: 1 | 2 | 4): number;
  /** False when nothing answers there (the hart raises an access fault). */
  write(paddr: number, size: 1 | 2 | 4, value: number): boolean;
  /** An aligned 8-byte read as one access: [low word, high word], or null when nothing answers. */
  read64?(paddr: number): readonly [number, number] | null;
  /** An aligned 8-byte write as one access; false when nothing answers. */
  write64?(paddr: number, lo: number, hi: number): boolean;
}

/** The source of the `time` CSR (and of Sstc comparisons): the board's mtime, in timebase ticks. */
export interface TimeSource {
  now(): number;
}
