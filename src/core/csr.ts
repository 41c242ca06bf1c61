// The control and status registers: existence, privilege checks and WARL behaviour of each
// (Priv. spec 1.12, chapters 2-4; Sstc; Zicntr). Values move as two int32 halves.

import type { Hart } from './hart.js';
import * as S from './hart-state.js';
import {
  ENVCFG_FIOM, MEDELEG_WRITABLE, MENVCFG_STCE_HIGH, MIDELEG_WRITABLE, MIE_WRITABLE, MISA_HIGH, MISA_LOW,
  Mstatus, MSTATUS_WRITABLE, Priv, SSTATUS_HIGH, SSTATUS_VISIBLE,
} from './privilege.js';
import { SatpMode } from './mmu.js';

export const enum Csr {
  FFLAGS = 0x001, FRM = 0x002, FCSR = 0x003,
  CYCLE = 0xc00, TIME = 0xc01, INSTRET = 0xc02, HPMCOUNTER3 = 0xc03, HPMCOUNTER31 = 0xc1f,
  SSTATUS = 0x100, SIE = 0x104, STVEC = 0x105, SCOUNTEREN = 0x106, SENVCFG = 0x10a,
  SSCRATCH = 0x140, SEPC = 0x141, SCAUSE = 0x142, STVAL = 0x143, SIP = 0x144, STIMECMP = 0x14d, SATP = 0x180,
  MVENDORID = 0xf11, MARCHID = 0xf12, MIMPID = 0xf13, MHARTID = 0xf14, MCONFIGPTR = 0xf15,
  MSTATUS = 0x300, MISA = 0x301, MEDELEG = 0x302, MIDELEG = 0x303, MIE = 0x304, MTVEC = 0x305,
  MCOUNTEREN = 0x306, MENVCFG = 0x30a, MCOUNTINHIBIT = 0x320, MHPMEVENT3 = 0x323, MHPMEVENT31 = 0x33f,
  MSCRATCH = 0x340, MEPC = 0x341, MCAUSE = 0x342, MTVAL = 0x343, MIP = 0x344,
  PMPCFG0 = 0x3a0, PMPCFG15 = 0x3af, PMPADDR0 = 0x3b0, PMPADDR63 = 0x3ef,
  TSELECT = 0x7a0, TDATA1 = 0x7a1, TDATA2 = 0x7a2, TDATA3 = 0x7a3, TINFO = 0x7a4,
  MCYCLE = 0xb00, MINSTRET = 0xb02, MHPMCOUNTER3 = 0xb03, MHPMCOUNTER31 = 0xb1f,
}

const TWO32 = 4294967296;
const MIP_SOFTWARE_WRITABLE = 0x222; // SSIP, STIP, SEIP
const STIP = 1 << 5;

/** The value read by the last successful `readCsr`. */
export const csrValue = { lo: 0, hi: 0 };

function set(lo: number, hi: number): true {
  csrValue.lo = lo;
  csrValue.hi = hi;
  return true;
}

function counter(retired: number, s: Int32Array, offsetWord: number): true {
  const offset = (BigInt(s[offsetWord + 1]!) << 32n) | BigInt(s[offsetWord]! >>> 0);
  const v = BigInt.asUintN(64, BigInt(retired) - offset);
  return set(Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
}

/** Counter CSRs below M-mode are gated by mcounteren and scounteren (section 3.1.11). */
function counterAllowed(hart: Hart, index: number): boolean {
  const priv = hart.s[S.PRIV]!;
  if (priv === Priv.Machine) return true;
  if (((hart.s[S.MCOUNTEREN]! >>> index) & 1) === 0) return false;
  return priv === Priv.Supervisor || ((hart.s[S.SCOUNTEREN]! >>> index) & 1) !== 0;
}

function fpEnabled(hart: Hart): boolean {
  return (hart.s[S.MSTATUS]! & Mstatus.FS) !== 0;
}

/**
 * Reads a CSR into `csrValue`. False when it does not exist or the current privilege may not
 * access it (the caller raises an illegal-instruction exception).
 */
export function readCsr(hart: Hart, csr: number): boolean {
  const s = hart.s;
  const priv = s[S.PRIV]!;
  if (((csr >>> 8) & 3) > priv) return false;
  switch (csr) {
    case Csr.FFLAGS: return fpEnabled(hart) && set(s[S.FCSR]! & 0x1f, 0);
    case Csr.FRM: return fpEnabled(hart) && set((s[S.FCSR]! >>> 5) & 7, 0);
    case Csr.FCSR: return fpEnabled(hart) && set(s[S.FCSR]! & 0xff, 0);
    case Csr.CYCLE: return counterAllowed(hart, 0) && counter(hart.d[S.F64_INSTRET]!, s, S.MCYCLE_OFFSET);
    case Csr.TIME: {
      if (!counterAllowed(hart, 1)) return false;
      const t = hart.time.now();
      return set(t % TWO32 | 0, Math.floor(t / TWO32) | 0);
    }
    case Csr.INSTRET: return counterAllowed(hart, 2) && counter(hart.d[S.F64_INSTRET]!, s, S.MINSTRET_OFFSET);
    case Csr.SSTATUS: return set(s[S.MSTATUS]! & SSTATUS_VISIBLE, SSTATUS_HIGH | (hart.mstatusHigh() & (0x80000000 | 0)));
    case Csr.SIE: return set(s[S.MIE]! & s[S.MIDELEG]!, 0);
    case Csr.STVEC: return set(s[S.STVEC]!, s[S.STVEC + 1]!);
    case Csr.SCOUNTEREN: return set(s[S.SCOUNTEREN]!, 0);
    case Csr.SENVCFG: return set(s[S.SENVCFG]!, 0);
    case Csr.SSCRATCH: return set(s[S.SSCRATCH]!, s[S.SSCRATCH + 1]!);
    case Csr.SEPC: return set(s[S.SEPC]!, s[S.SEPC + 1]!);
    case Csr.SCAUSE: return set(s[S.SCAUSE]!, s[S.SCAUSE + 1]!);
    case Csr.STVAL: return set(s[S.STVAL]!, s[S.STVAL + 1]!);
    case Csr.SIP: return set(hart.mip() & s[S.MIDELEG]!, 0);
    case Csr.STIMECMP:
      if (!stimecmpAllowed(hart)) return false;
      return set(s[S.STIMECMP]!, s[S.STIMECMP + 1]!);
    case Csr.SATP:
      if (priv === Priv.Supervisor && (s[S.MSTATUS]! & Mstatus.TVM) !== 0) return false;
      return set(s[S.SATP]!, s[S.SATP + 1]!);
    case Csr.MVENDORID: case Csr.MARCHID: case Csr.MIMPID: case Csr.MCONFIGPTR: return set(0, 0);
    case Csr.MHARTID: return set(hart.hartId, 0);
    case Csr.MSTATUS: return set(s[S.MSTATUS]!, hart.mstatusHigh());
    case Csr.MISA: return set(MISA_LOW, MISA_HIGH);
    case Csr.MEDELEG: return set(s[S.MEDELEG]!, 0);
    case Csr.MIDELEG: return set(s[S.MIDELEG]!, 0);
    case Csr.MIE: return set(s[S.MIE]!, 0);
    case Csr.MTVEC: return set(s[S.MTVEC]!, s[S.MTVEC + 1]!);
    case Csr.MCOUNTEREN: return set(s[S.MCOUNTEREN]!, 0);
    case Csr.MENVCFG: return set(s[S.MENVCFG]!, s[S.MENVCFG + 1]!);
    case Csr.MCOUNTINHIBIT: return set(0, 0);
    // The trigger module has no triggers (Debug spec 0.13, 5.2): tselect reads 0 whatever is
    // written, tdata1 reads type 0 ("no trigger here") and tinfo says only type 0 exists.
    case Csr.TSELECT: case Csr.TDATA1: case Csr.TDATA2: case Csr.TDATA3: return set(0, 0);
    case Csr.TINFO: return set(1, 0);
    case Csr.MSCRATCH: return set(s[S.MSCRATCH]!, s[S.MSCRATCH + 1]!);
    case Csr.MEPC: return set(s[S.MEPC]!, s[S.MEPC + 1]!);
    case Csr.MCAUSE: return set(s[S.MCAUSE]!, s[S.MCAUSE + 1]!);
    case Csr.MTVAL: return set(s[S.MTVAL]!, s[S.MTVAL + 1]!);
    case Csr.MIP: return set(hart.mip(), 0);
    case Csr.MCYCLE: return counter(hart.d[S.F64_INSTRET]!, s, S.MCYCLE_OFFSET);
    case Csr.MINSTRET: return counter(hart.d[S.F64_INSTRET]!, s, S.MINSTRET_OFFSET);
  }
  if (csr >= Csr.HPMCOUNTER3 && csr <= Csr.HPMCOUNTER31) return counterAllowed(hart, csr - Csr.CYCLE) && set(0, 0);
  if (csr >= Csr.MHPMCOUNTER3 && csr <= Csr.MHPMCOUNTER31) return set(0, 0);
  if (csr >= Csr.MHPMEVENT3 && csr <= Csr.MHPMEVENT31) return set(0, 0);
  if (csr >= Csr.PMPCFG0 && csr <= Csr.PMPCFG15) {
    const n = csr - Csr.PMPCFG0;
    if (n & 1) return false; // RV64 has only the even pmpcfg registers
    if (n >= 4) return set(0, 0); // entries 16..63 are not implemented: read-only zero
    return set(s[S.PMPCFG + n]!, s[S.PMPCFG + n + 1]!);
  }
  if (csr >= Csr.PMPADDR0 && csr <= Csr.PMPADDR63) {
    const n = csr - Csr.PMPADDR0;
    if (n >= S.PMP_ENTRIES) return set(0, 0);
    return set(s[S.PMPADDR + 2 * n]!, s[S.PMPADDR + 2 * n + 1]!);
  }
  return false;
}

/** Sstc: S-mode reaches stimecmp only when menvcfg.STCE and mcounteren.TM are set. */
function stimecmpAllowed(hart: Hart): boolean {
  const s = hart.s;
  if ((s[S.MENVCFG + 1]! & MENVCFG_STCE_HIGH) === 0) return s[S.PRIV] === Priv.Machine;
  return s[S.PRIV] === Priv.Machine || (s[S.MCOUNTEREN]! & 2) !== 0;
}

/**
 * Writes a CSR that `readCsr` accepted for this privilege. Read-only CSRs are rejected by the
 * caller from the address bits; here writes follow each field's WARL rule.
 */
export function writeCsr(hart: Hart, csr: number, lo: number, hi: number): void {
  const s = hart.s;
  switch (csr) {
    case Csr.FFLAGS: s[S.FCSR] = (s[S.FCSR]! & ~0x1f) | (lo & 0x1f); markFpDirty(hart); return;
    case Csr.FRM: s[S.FCSR] = (s[S.FCSR]! & 0x1f) | ((lo & 7) << 5); markFpDirty(hart); return;
    case Csr.FCSR: s[S.FCSR] = lo & 0xff; markFpDirty(hart); return;
    case Csr.SSTATUS: writeMstatus(hart, (s[S.MSTATUS]! & ~SSTATUS_VISIBLE) | (lo & SSTATUS_VISIBLE)); return;
    case Csr.SIE: {
      const deleg = s[S.MIDELEG]!;
      s[S.MIE] = (s[S.MIE]! & ~deleg) | (lo & deleg);
      hart.exitLoop = true;
      return;
    }
    case Csr.STVEC: writeTvec(s, S.STVEC, lo, hi); return;
    case Csr.SCOUNTEREN: s[S.SCOUNTEREN] = lo & 7; return;
    case Csr.SENVCFG: s[S.SENVCFG] = lo & ENVCFG_FIOM; return;
    case Csr.SSCRATCH: s[S.SSCRATCH] = lo; s[S.SSCRATCH + 1] = hi; return;
    case Csr.SEPC: s[S.SEPC] = lo & ~1; s[S.SEPC + 1] = hi; return;
    case Csr.SCAUSE: s[S.SCAUSE] = lo; s[S.SCAUSE + 1] = hi; return;
    case Csr.STVAL: s[S.STVAL] = lo; s[S.STVAL + 1] = hi; return;
    case Csr.SIP: {
      // Only SSIP is writable through sip, and only when delegated.
      const writable = s[S.MIDELEG]! & 2;
      s[S.MIP_SOFTWARE] = (s[S.MIP_SOFTWARE]! & ~writable) | (lo & writable);
      hart.exitLoop = true;
      return;
    }
    case Csr.STIMECMP: writeStimecmp(hart, lo, hi); return;
    case Csr.SATP: writeSatp(hart, lo, hi); return;
    case Csr.MSTATUS: writeMstatus(hart, (s[S.MSTATUS]! & ~MSTATUS_WRITABLE) | (lo & MSTATUS_WRITABLE)); return;
    case Csr.MEDELEG: s[S.MEDELEG] = lo & MEDELEG_WRITABLE; return;
    case Csr.MIDELEG: s[S.MIDELEG] = lo & MIDELEG_WRITABLE; hart.exitLoop = true; return;
    case Csr.MIE: s[S.MIE] = lo & MIE_WRITABLE; hart.exitLoop = true; return;
    case Csr.MTVEC: writeTvec(s, S.MTVEC, lo, hi); return;
    case Csr.MCOUNTEREN: s[S.MCOUNTEREN] = lo & 7; return;
    case Csr.MENVCFG:
      s[S.MENVCFG] = lo & ENVCFG_FIOM;
      s[S.MENVCFG + 1] = hi & MENVCFG_STCE_HIGH;
      hart.updateSupervisorTimer();
      hart.exitLoop = true;
      return;
    case Csr.MSCRATCH: s[S.MSCRATCH] = lo; s[S.MSCRATCH + 1] = hi; return;
    case Csr.MEPC: s[S.MEPC] = lo & ~1; s[S.MEPC + 1] = hi; return;
    case Csr.MCAUSE: s[S.MCAUSE] = lo; s[S.MCAUSE + 1] = hi; return;
    case Csr.MTVAL: s[S.MTVAL] = lo; s[S.MTVAL + 1] = hi; return;
    case Csr.MIP: {
      // STIP is read-only while Sstc drives it.
      const writable = (s[S.MENVCFG + 1]! & MENVCFG_STCE_HIGH) !== 0 ? MIP_SOFTWARE_WRITABLE & ~STIP : MIP_SOFTWARE_WRITABLE;
      s[S.MIP_SOFTWARE] = (s[S.MIP_SOFTWARE]! & ~writable) | (lo & writable);
      hart.exitLoop = true;
      return;
    }
    // A write to a counter sets it to the value as retired after this instruction; the
    // caller adds this instruction, so the value lands one ahead (section 3.3.1).
    case Csr.MCYCLE: writeCounter(hart, S.MCYCLE_OFFSET, lo, hi); return;
    case Csr.MINSTRET: writeCounter(hart, S.MINSTRET_OFFSET, lo, hi); return;
  }
  if (csr >= Csr.PMPCFG0 && csr <= Csr.PMPCFG15) {
    const n = csr - Csr.PMPCFG0;
    if (n >= 4) return;
    for (let i = 0; i < 8; i++) {
      const byte = i < 4 ? (lo >>> (8 * i)) & 0xff : (hi >>> (8 * (i - 4))) & 0xff;
      hart.pmp.writeConfigByte(n * 4 + i, byte);
    }
    hart.pmp.refresh();
    hart.flushTlb();
    return;
  }
  if (csr >= Csr.PMPADDR0 && csr <= Csr.PMPADDR63) {
    const n = csr - Csr.PMPADDR0;
    if (n >= S.PMP_ENTRIES) return;
    hart.pmp.writeAddress(n, lo, hi);
    hart.pmp.refresh();
    hart.flushTlb();
  }
  // Everything else that reads is read-only zero (hpm counters and events, mcountinhibit).
}

export function markFpDirty(hart: Hart): void {
  hart.s[S.MSTATUS] |= Mstatus.FS_DIRTY;
}

function writeMstatus(hart: Hart, value: number): void {
  const s = hart.s;
  const old = s[S.MSTATUS]!;
  let v = value;
  // MPP is WARL over {U, S, M}: the reserved value 2 keeps the old field.
  if (((v >>> Mstatus.MPP_SHIFT) & 3) === 2) v = (v & ~Mstatus.MPP) | (old & Mstatus.MPP);
  s[S.MSTATUS] = v;
  // MPRV, MPP, SUM and MXR change what loads and stores may reach: TLB entries are tagged with them.
  if (((old ^ v) & (Mstatus.MPRV | Mstatus.MPP | Mstatus.SUM | Mstatus.MXR)) !== 0) hart.updateTlbModes();
  hart.exitLoop = true;
}

function writeTvec(s: Int32Array, word: number, lo: number, hi: number): void {
  // Modes 0 (direct) and 1 (vectored) only; the base is 4-byte aligned.
  s[word] = lo & ~2;
  s[word + 1] = hi;
}

function writeSatp(hart: Hart, lo: number, hi: number): void {
  const mode = hi >>> 28;
  // Section 4.1.11: a write with an unsupported MODE has no effect at all.
  if (mode !== SatpMode.Bare && mode !== SatpMode.Sv39 && mode !== SatpMode.Sv48) return;
  const s = hart.s;
  const oldMode = s[S.SATP + 1]! >>> 28;
  // ASID is 16 bits (59:44); PPN is 44 bits (43:0). Bare mode keeps the other fields zero.
  if (mode === SatpMode.Bare) {
    s[S.SATP] = 0;
    s[S.SATP + 1] = 0;
  } else {
    s[S.SATP] = lo;
    s[S.SATP + 1] = hi;
  }
  // The TLBs keep no ASIDs: another address space drops what is not global. Global
  // mappings are the same in every address space (Priv. spec 4.3.1), but not across modes.
  if (mode === oldMode) hart.flushTlbNonGlobal();
  else hart.flushTlb();
}

function writeStimecmp(hart: Hart, lo: number, hi: number): void {
  const s = hart.s;
  s[S.STIMECMP] = lo;
  s[S.STIMECMP + 1] = hi;
  hart.d[S.F64_STIMECMP] = (hi >>> 0) * TWO32 + (lo >>> 0);
  hart.updateSupervisorTimer();
  hart.exitLoop = true;
}

function writeCounter(hart: Hart, offsetWord: number, lo: number, hi: number): void {
  const value = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  const offset = BigInt.asUintN(64, BigInt(hart.d[S.F64_INSTRET]! + 1) - value);
  hart.s[offsetWord] = Number(offset & 0xffffffffn) | 0;
  hart.s[offsetWord + 1] = Number(offset >> 32n) | 0;
}
