// SYSTEM and MISC-MEM instructions: CSR access, ECALL/EBREAK, MRET/SRET, WFI, SFENCE.VMA,
// FENCE.I (Unprivileged ISA chapter 9 and 3; Priv. spec 3.3).

import type { Hart } from './hart.js';
import * as S from './hart-state.js';
import { Op } from './decode/instruction-table.js';
import { csrValue, readCsr, writeCsr } from './csr.js';
import { Cause, Mstatus, Priv } from './privilege.js';

/**
 * Executes one system instruction. Returns true when it set a new pc in the state block
 * (xRET); false when execution continues at the next instruction.
 */
export function executeSystem(hart: Hart, insn: number, op: Op, raw: number): boolean {
  const s = hart.s;
  const priv = s[S.PRIV]!;
  switch (op) {
    case Op.CSRRW: case Op.CSRRS: case Op.CSRRC: case Op.CSRRWI: case Op.CSRRSI: case Op.CSRRCI:
      csrInstruction(hart, insn, op, raw);
      return false;
    case Op.ECALL:
      return hart.raise(Cause.EcallFromU + priv, 0, 0);
    case Op.EBREAK:
      // mtval holds the address of the breakpoint (Priv. spec 3.1.16).
      return hart.raise(Cause.Breakpoint, s[S.PC]!, s[S.PC + 1]!);
    case Op.MRET: {
      if (priv !== Priv.Machine) return illegal(hart, raw);
      const mstatus = s[S.MSTATUS]!;
      const mpp = (mstatus >>> Mstatus.MPP_SHIFT) & 3;
      let next = (mstatus & ~(Mstatus.MIE | Mstatus.MPP)) | Mstatus.MPIE | ((mstatus & Mstatus.MPIE) !== 0 ? Mstatus.MIE : 0);
      if (mpp !== Priv.Machine) next &= ~Mstatus.MPRV;
      s[S.MSTATUS] = next;
      s[S.PRIV] = mpp;
      s[S.PC] = s[S.MEPC]!;
      s[S.PC + 1] = s[S.MEPC + 1]!;
      returned(hart);
      return true;
    }
    case Op.SRET: {
      const mstatus = s[S.MSTATUS]!;
      if (priv === Priv.User || (priv === Priv.Supervisor && (mstatus & Mstatus.TSR) !== 0)) return illegal(hart, raw);
      const spp = (mstatus & Mstatus.SPP) !== 0 ? Priv.Supervisor : Priv.User;
      s[S.MSTATUS] = (mstatus & ~(Mstatus.SIE | Mstatus.SPP | Mstatus.MPRV)) | Mstatus.SPIE
        | ((mstatus & Mstatus.SPIE) !== 0 ? Mstatus.SIE : 0);
      s[S.PRIV] = spp;
      s[S.PC] = s[S.SEPC]!;
      s[S.PC + 1] = s[S.SEPC + 1]!;
      returned(hart);
      return true;
    }
    case Op.WFI:
      // Priv. spec 3.3.3: illegal in U-mode, and in S-mode when TW is set.
      if (priv === Priv.User || (priv === Priv.Supervisor && (s[S.MSTATUS]! & Mstatus.TW) !== 0)) return illegal(hart, raw);
      if (hart.pendingInterrupts() === 0) {
        s[S.WAITING] = 1;
        hart.exitLoop = true;
      }
      return false;
    case Op.SFENCE_VMA:
      if (priv === Priv.User || (priv === Priv.Supervisor && (s[S.MSTATUS]! & Mstatus.TVM) !== 0)) return illegal(hart, raw);
      // Only the TLBs cache translations (translated code is keyed by guest memory, not by
      // virtual address). An address in rs1 flushes its page alone. ASIDs are not cached, so
      // an ASID in rs2 drops every non-global entry, and global ones stay (Priv. spec 4.2.1).
      if (((raw >>> 15) & 31) === 0) {
        if (((raw >>> 20) & 31) === 0) hart.flushTlb();
        else hart.flushTlbNonGlobal();
      } else {
        const r = (raw >>> 15) & 31;
        hart.flushTlbPage(s[2 * r]!, s[2 * r + 1]!);
      }
      return false;
    case Op.FENCE_I:
      // This hart's own stores already drop the instructions decoded from what they overwrite;
      // when another hart or a device wrote code this hart decoded, everything decoded goes.
      if (hart.memory.decodeCache.stale) hart.memory.decodeCache.clear();
      return false;
  }
  return illegal(hart, raw);
}

function illegal(hart: Hart, raw: number): never {
  return hart.raise(Cause.IllegalInstruction, raw, 0);
}

const CSR_MIP = 0x344;

/** After MRET/SRET: accesses are checked for the new mode, and interrupts may now be enabled. */
function returned(hart: Hart): void {
  hart.updateTlbModes();
}

/** CSRRW/S/C and their immediate forms (Zicsr, Unprivileged ISA 9.1). */
function csrInstruction(hart: Hart, insn: number, op: Op, raw: number): void {
  const s = hart.s;
  const csr = insn >>> 20;
  const rd = (insn >>> 7) & 31;
  const rs1 = (insn >>> 15) & 31;
  const immediate = op >= Op.CSRRWI;
  const srcLo = immediate ? rs1 : s[2 * rs1]!;
  const srcHi = immediate ? 0 : s[2 * rs1 + 1]!;
  const kind = immediate ? op - Op.CSRRWI : op - Op.CSRRW; // 0 write, 1 set, 2 clear
  // CSRRS/CSRRC with x0 (or uimm 0) do not write, so they may read read-only CSRs.
  const writes = kind === 0 || rs1 !== 0;
  if (writes && (csr >>> 10) === 3) illegal(hart, raw);
  if (!readCsr(hart, csr)) illegal(hart, raw);
  const oldLo = csrValue.lo;
  const oldHi = csrValue.hi;
  if (writes) {
    let lo = srcLo;
    let hi = srcHi;
    // Priv. spec 3.1.9: only the software-writable bits of mip take part in CSRRS/CSRRC's
    // read-modify-write, never the lines devices drive (else a passing SEIP would stick).
    const baseLo = csr === CSR_MIP ? s[S.MIP_SOFTWARE]! : oldLo;
    if (kind === 1) { lo = baseLo | srcLo; hi = oldHi | srcHi; } else if (kind === 2) { lo = baseLo & ~srcLo; hi = oldHi & ~srcHi; }
    writeCsr(hart, csr, lo, hi);
  }
  if (rd !== 0) {
    s[2 * rd] = oldLo;
    s[2 * rd + 1] = oldHi;
  }
}
