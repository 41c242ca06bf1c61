// Privilege modes and the bit layouts of the privileged CSRs the hart interprets
// (Priv. spec 1.12, sections 3.1 and 4.1).

export const enum Priv {
  User = 0,
  Supervisor = 1,
  Machine = 3,
}

/** mstatus bits (section 3.1.6), low 32 bits. */
export const enum Mstatus {
  SIE = 1 << 1,
  MIE = 1 << 3,
  SPIE = 1 << 5,
  MPIE = 1 << 7,
  SPP = 1 << 8,
  MPP = 3 << 11,
  MPP_SHIFT = 11,
  FS = 3 << 13,
  FS_DIRTY = 3 << 13,
  MPRV = 1 << 17,
  SUM = 1 << 18,
  MXR = 1 << 19,
  TVM = 1 << 20,
  TW = 1 << 21,
  TSR = 1 << 22,
}

/** What software may write in mstatus: SIE MIE SPIE MPIE SPP MPP FS MPRV SUM MXR TVM TW TSR. */
export const MSTATUS_WRITABLE = 0x7e79aa;
/** The sstatus view: SIE SPIE SPP FS SUM MXR. */
export const SSTATUS_VISIBLE = 0xc6122;
/** mstatus[63:32]: UXL = SXL = 2 (64-bit); SD (bit 63) is added when FS is dirty. */
export const MSTATUS_HIGH = 0xa;
export const SSTATUS_HIGH = 0x2;

/** Interrupt bits writable in mie, and delegable in mideleg. */
export const MIE_WRITABLE = 0xaaa;
export const MIDELEG_WRITABLE = 0x222;
export const SIE_MASK = 0x222;
/** Exceptions that may be delegated (all but ecall from M and the reserved causes). */
export const MEDELEG_WRITABLE = 0xb3ff;

/** misa: MXL = 64, extensions A C D F I M S U. */
export const MISA_LOW = 0x14112d;
export const MISA_HIGH = 0x80000000 | 0;

/** Synchronous exception causes (section 3.1.15). */
export const enum Cause {
  InstructionMisaligned = 0,
  InstructionAccessFault = 1,
  IllegalInstruction = 2,
  Breakpoint = 3,
  LoadMisaligned = 4,
  LoadAccessFault = 5,
  StoreMisaligned = 6,
  StoreAccessFault = 7,
  EcallFromU = 8,
  EcallFromS = 9,
  EcallFromM = 11,
  InstructionPageFault = 12,
  LoadPageFault = 13,
  StorePageFault = 15,
}

/** menvcfg bit 63 (STCE, Sstc) lives in the high word. */
export const MENVCFG_STCE_HIGH = 0x80000000 | 0;
/** menvcfg/senvcfg FIOM (bit 0) is the only other field implemented. */
export const ENVCFG_FIOM = 1;
