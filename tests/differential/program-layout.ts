// Where everything of a generated differential program lives. One section starts at the RAM
// base and every region sits at a fixed offset (`.org`), so the generator knows each physical
// address while it builds page tables and picks memory operands.
//
//   0x8000_0000 +------------------------+
//               | runtime (init, handlers, dump) |
//   0x8000_4000 +------------------------+
//               | save area: handler scratch, dump slots, trap log  (gp points here)
//   0x8000_c000 +------------------------+
//               | generated code (blocks) |  also mapped for U-mode at PA - U_ALIAS_DELTA
//   0x8004_0000 +------------------------+
//               | data area, 8 pages      |  filled from a seed at start, hashed at the end
//   0x8004_8000 +------------------------+
//               | (gap)                   |
//   0x8005_0000 +------------------------+
//               | page tables (Sv39 and Sv48 trees) |
//   0x8007_0000 +------------------------+

export const RAM_BASE = 0x8000_0000n;

export const RUNTIME_OFFSET = 0x0;
export const SAVE_OFFSET = 0x4000;
export const CODE_OFFSET = 0xc000;
export const CODE_END_OFFSET = 0x4_0000;
export const DATA_OFFSET = 0x4_0000;
export const DATA_PAGES = 8;
/**
 * The one data page where PMP may deny reads; only M-mode reaches it by its physical address
 * (the virtual windows map the other pages). QEMU 7.2 performs an AMO as a load, then a store:
 * on a page whose PTE denies the store, a PMP read denial would be seen first there (access
 * fault) and the page fault in Vireo. Away from translation both report the access fault.
 */
export const PMP_READ_PAGE = DATA_PAGES - 1;
export const PT_OFFSET = 0x5_0000;
export const PT_PAGES = 32;

export const PAGE = 4096;
export const SAVE_PA = RAM_BASE + BigInt(SAVE_OFFSET);
export const DATA_PA = RAM_BASE + BigInt(DATA_OFFSET);
export const DATA_BYTES = DATA_PAGES * PAGE;

/** U-mode runs the generated code through an alias mapping: VA = PA - this. */
export const U_ALIAS_DELTA = 0x4000_0000n;

/** Offsets in the save area (gp-relative; all below 2 KiB so one `ld`/`sd` reaches them). */
export const SAVE = {
  mScratch: 0x00, // t0-t3 of the M-mode handler
  sScratch: 0x20, // t0-t3 of the S-mode handler
  continuation: 0x40, // where the M handler resumes after a block's exit ecall
  inMHandler: 0x48,
  inSHandler: 0x50,
  trapCount: 0x58,
  checkpoint: 0x60,
  ra: 0x68,
  repeat: 0x70, // times the current block is still to run
  amoFaultPages: 0x78, // bit i: an AMO faulted on low-window page i; 16: high; 17: giga; 18: other
  dump: 0x80, // x1..x31, f0..f31, then CSRs: 0x80 + 8 * slot
  print: 0x7e0, // two values being printed by the final dump (not the handlers' scratch)
  dumpSlots: 0xf0,
  log: 0x800, // trap log entries, LOG_ENTRY bytes each
} as const;

export const LOG_ENTRY = 64;
export const LOG_MAX = 400;

/** Virtual windows onto the data area, as seen from S and U (see page-tables.ts). */
export const WINDOW = {
  /**
   * 16 pages of 4 KiB leaves with random permissions over random data pages. S-mode code may
   * switch to Bare, where this becomes a physical address: it must be empty on both boards
   * (QEMU's virt board has flash at 0x2000_0000-0x23ff_ffff, PCIe from 0x3000_0000).
   */
  low: 0x2800_0000n,
  lowPages: 16,
  /** A 2 MiB megapage at the top of the address space over the RAM base. */
  high: 0xffff_ffff_ffe0_0000n,
  /** Sv48 only: a 1 GiB gigapage over the RAM base; non-canonical under Sv39. */
  giga: 0x0000_4000_8000_0000n,
  /** The identity gigapage at the RAM base (S code runs here; no U bit). */
  identity: RAM_BASE,
} as const;

/** Physical addresses with nothing behind them on either board (access faults). */
export const BAD_PA = [0x1000_0000_0000n, 0x9000_0000n] as const;

/** Hex literal for assembly. */
export function hex(v: bigint | number): string {
  const b = BigInt.asUintN(64, BigInt(v));
  return `0x${b.toString(16)}`;
}
