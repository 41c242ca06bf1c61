// The F and D extensions as instructions: register file access with NaN-boxing, rounding
// mode selection, fflags accumulation and FS tracking; the arithmetic itself is in fpu/.
// Unprivileged ISA chapters 11 and 12.

import type { Hart } from './hart.js';
import { F, FCSR, MSTATUS, TLB_MODE_DATA } from './hart-state.js';
import { Op } from './decode/instruction-table.js';
import { Cause, Mstatus } from './privilege.js';
import { highOfSum } from './int64.js';
import {
  add32, add64, classify32, classify64, div32, div64, eq32, eq64, f32ToF64, f32ToI32, f32ToI64, f32ToU32,
  f32ToU64, f64ToF32, f64ToI32, f64ToI64, f64ToU32, f64ToU64, fma32, fma64, i32ToF32, i32ToF64, i64ToF32,
  i64ToF64, le32, le64, lt32, lt64, max32, max64, min32, min64, mul32, mul64, sqrt32, sqrt64, sub32, sub64,
  takeFlags, u32ToF32, u32ToF64, u64ToF32, u64ToF64,
} from './fpu/index.js';

const CANONICAL_NAN32 = 0x7fc00000;
const SIGN32 = 0x80000000;
const SIGN64 = 1n << 63n;

export function executeFloat(hart: Hart, insn: number, op: Op, raw: number): void {
  const s = hart.s;
  if ((s[MSTATUS]! & Mstatus.FS) === 0) hart.raise(Cause.IllegalInstruction, raw, 0);
  const rd = (insn >>> 7) & 31;
  const r1 = (insn >>> 15) & 31;
  const r2 = (insn >>> 20) & 31;
  const r3 = insn >>> 27;

  // Loads and stores move raw bits; they neither round nor set flags.
  switch (op) {
    // A hit in the data TLBs reads or writes RAM directly, as integer loads and stores do;
    // the key keeps the alignment bits, so a misaligned access misses (tlb.ts, INVALID_TAG).
    case Op.FLW: case Op.FLD: {
      const wide = op === Op.FLD;
      address(s, r1, insn >> 20);
      const offset = hart.readTlb.offsetOf(addrLo, addrHi, wide ? 8 : 4, hart.s[TLB_MODE_DATA]!);
      if (offset >= 0) {
        const w = offset >>> 2;
        const i32 = hart.memory.i32;
        s[F + 2 * rd] = i32[w]!;
        s[F + 2 * rd + 1] = wide ? i32[w + 1]! : -1;
      } else {
        hart.loadSlow(addrLo, addrHi, wide ? 8 : 4);
        s[F + 2 * rd] = hart.loadLo;
        s[F + 2 * rd + 1] = wide ? hart.loadHi : -1;
      }
      dirty(s);
      return;
    }
    case Op.FSW: case Op.FSD: {
      const wide = op === Op.FSD;
      address(s, r1, ((insn >> 20) & ~31) | ((insn >>> 7) & 31));
      const offset = hart.writeTlb.offsetOf(addrLo, addrHi, wide ? 8 : 4, hart.s[TLB_MODE_DATA]!);
      if (offset >= 0) {
        const w = offset >>> 2;
        const i32 = hart.memory.i32;
        i32[w] = s[F + 2 * r2]!;
        if (wide) i32[w + 1] = s[F + 2 * r2 + 1]!;
      } else {
        hart.storeSlow(addrLo, addrHi, wide ? 8 : 4, s[F + 2 * r2]!, s[F + 2 * r2 + 1]!);
      }
      return;
    }
  }

  // Rounding mode: the instruction's, or frm for DYN (7); 5 and 6 are reserved.
  let rm = (insn >>> 12) & 7;
  if (rm === 7) rm = (s[FCSR]! >>> 5) & 7;
  const usesRm = hasRoundingMode(op);
  if (usesRm && rm > 4) hart.raise(Cause.IllegalInstruction, raw, 0);

  switch (op) {
    case Op.FMADD_S: case Op.FMSUB_S: case Op.FNMSUB_S: case Op.FNMADD_S: {
      // fmsub: a*b-c; fnmsub: -(a*b)+c; fnmadd: -(a*b)-c, each with one rounding.
      const negProduct = op === Op.FNMSUB_S || op === Op.FNMADD_S ? SIGN32 : 0;
      const negAddend = op === Op.FMSUB_S || op === Op.FNMADD_S ? SIGN32 : 0;
      setF32(s, rd, fma32((f32(s, r1) ^ negProduct) >>> 0, f32(s, r2), (f32(s, r3) ^ negAddend) >>> 0, rm));
      break;
    }
    case Op.FADD_S: setF32(s, rd, add32(f32(s, r1), f32(s, r2), rm)); break;
    case Op.FSUB_S: setF32(s, rd, sub32(f32(s, r1), f32(s, r2), rm)); break;
    case Op.FMUL_S: setF32(s, rd, mul32(f32(s, r1), f32(s, r2), rm)); break;
    case Op.FDIV_S: setF32(s, rd, div32(f32(s, r1), f32(s, r2), rm)); break;
    case Op.FSQRT_S: setF32(s, rd, sqrt32(f32(s, r1), rm)); break;
    case Op.FSGNJ_S: setF32(s, rd, ((f32(s, r1) & 0x7fffffff) | (f32(s, r2) & SIGN32)) >>> 0); break;
    case Op.FSGNJN_S: setF32(s, rd, ((f32(s, r1) & 0x7fffffff) | (~f32(s, r2) & SIGN32)) >>> 0); break;
    case Op.FSGNJX_S: setF32(s, rd, (f32(s, r1) ^ (f32(s, r2) & SIGN32)) >>> 0); break;
    case Op.FMIN_S: setF32(s, rd, min32(f32(s, r1), f32(s, r2))); break;
    case Op.FMAX_S: setF32(s, rd, max32(f32(s, r1), f32(s, r2))); break;
    case Op.FCVT_W_S: setX32(s, rd, f32ToI32(f32(s, r1), rm)); break;
    case Op.FCVT_WU_S: setX32(s, rd, f32ToU32(f32(s, r1), rm)); break;
    case Op.FCVT_L_S: setX64(s, rd, f32ToI64(f32(s, r1), rm)); break;
    case Op.FCVT_LU_S: setX64(s, rd, f32ToU64(f32(s, r1), rm)); break;
    case Op.FMV_X_W: setX32(s, rd, s[F + 2 * r1]!); return; // raw low bits, no NaN-box check
    case Op.FCLASS_S: setX32(s, rd, classify32(f32(s, r1))); return;
    case Op.FEQ_S: setX32(s, rd, eq32(f32(s, r1), f32(s, r2))); break;
    case Op.FLT_S: setX32(s, rd, lt32(f32(s, r1), f32(s, r2))); break;
    case Op.FLE_S: setX32(s, rd, le32(f32(s, r1), f32(s, r2))); break;
    case Op.FCVT_S_W: setF32(s, rd, i32ToF32(s[2 * r1]!, rm)); break;
    case Op.FCVT_S_WU: setF32(s, rd, u32ToF32(s[2 * r1]! >>> 0, rm)); break;
    case Op.FCVT_S_L: setF32(s, rd, i64ToF32(x64(s, r1, true), rm)); break;
    case Op.FCVT_S_LU: setF32(s, rd, u64ToF32(x64(s, r1, false), rm)); break;
    case Op.FMV_W_X: setF32(s, rd, s[2 * r1]! >>> 0); break;

    case Op.FMADD_D: case Op.FMSUB_D: case Op.FNMSUB_D: case Op.FNMADD_D: {
      const negProduct = op === Op.FNMSUB_D || op === Op.FNMADD_D ? SIGN64 : 0n;
      const negAddend = op === Op.FMSUB_D || op === Op.FNMADD_D ? SIGN64 : 0n;
      setF64(s, rd, fma64(f64(s, r1) ^ negProduct, f64(s, r2), f64(s, r3) ^ negAddend, rm));
      break;
    }
    case Op.FADD_D: setF64(s, rd, add64(f64(s, r1), f64(s, r2), rm)); break;
    case Op.FSUB_D: setF64(s, rd, sub64(f64(s, r1), f64(s, r2), rm)); break;
    case Op.FMUL_D: setF64(s, rd, mul64(f64(s, r1), f64(s, r2), rm)); break;
    case Op.FDIV_D: setF64(s, rd, div64(f64(s, r1), f64(s, r2), rm)); break;
    case Op.FSQRT_D: setF64(s, rd, sqrt64(f64(s, r1), rm)); break;
    case Op.FSGNJ_D: sign64(s, rd, r1, s[F + 2 * r2 + 1]! & SIGN32); break;
    case Op.FSGNJN_D: sign64(s, rd, r1, ~s[F + 2 * r2 + 1]! & SIGN32); break;
    case Op.FSGNJX_D: sign64(s, rd, r1, (s[F + 2 * r1 + 1]! ^ s[F + 2 * r2 + 1]!) & SIGN32); break;
    case Op.FMIN_D: setF64(s, rd, min64(f64(s, r1), f64(s, r2))); break;
    case Op.FMAX_D: setF64(s, rd, max64(f64(s, r1), f64(s, r2))); break;
    case Op.FCVT_S_D: setF32(s, rd, f64ToF32(f64(s, r1), rm)); break;
    case Op.FCVT_D_S: setF64(s, rd, f32ToF64(f32(s, r1))); break;
    case Op.FCVT_W_D: setX32(s, rd, f64ToI32(f64(s, r1), rm)); break;
    case Op.FCVT_WU_D: setX32(s, rd, f64ToU32(f64(s, r1), rm)); break;
    case Op.FCVT_L_D: setX64(s, rd, f64ToI64(f64(s, r1), rm)); break;
    case Op.FCVT_LU_D: setX64(s, rd, f64ToU64(f64(s, r1), rm)); break;
    case Op.FMV_X_D:
      if (rd !== 0) { s[2 * rd] = s[F + 2 * r1]!; s[2 * rd + 1] = s[F + 2 * r1 + 1]!; }
      return;
    case Op.FCLASS_D: setX32(s, rd, classify64(f64(s, r1))); return;
    case Op.FEQ_D: setX32(s, rd, eq64(f64(s, r1), f64(s, r2))); break;
    case Op.FLT_D: setX32(s, rd, lt64(f64(s, r1), f64(s, r2))); break;
    case Op.FLE_D: setX32(s, rd, le64(f64(s, r1), f64(s, r2))); break;
    case Op.FCVT_D_W: setF64(s, rd, i32ToF64(s[2 * r1]!, rm)); break;
    case Op.FCVT_D_WU: setF64(s, rd, u32ToF64(s[2 * r1]! >>> 0, rm)); break;
    case Op.FCVT_D_L: setF64(s, rd, i64ToF64(x64(s, r1, true), rm)); break;
    case Op.FCVT_D_LU: setF64(s, rd, u64ToF64(x64(s, r1, false), rm)); break;
    case Op.FMV_D_X:
      s[F + 2 * rd] = s[2 * r1]!;
      s[F + 2 * rd + 1] = s[2 * r1 + 1]!;
      dirty(s);
      return;
    default:
      hart.raise(Cause.IllegalInstruction, raw, 0);
  }
  const flags = takeFlags();
  if (flags !== 0) s[FCSR] |= flags;
  dirty(s);
}

function hasRoundingMode(op: Op): boolean {
  switch (op) {
    case Op.FSGNJ_S: case Op.FSGNJN_S: case Op.FSGNJX_S: case Op.FMIN_S: case Op.FMAX_S:
    case Op.FMV_X_W: case Op.FCLASS_S: case Op.FEQ_S: case Op.FLT_S: case Op.FLE_S: case Op.FMV_W_X:
    case Op.FSGNJ_D: case Op.FSGNJN_D: case Op.FSGNJX_D: case Op.FMIN_D: case Op.FMAX_D:
    case Op.FMV_X_D: case Op.FCLASS_D: case Op.FEQ_D: case Op.FLT_D: case Op.FLE_D: case Op.FMV_D_X:
      return false;
    default:
      return true;
  }
}

let addrLo = 0;
let addrHi = 0;

function address(s: Int32Array, r1: number, imm: number): void {
  const bLo = s[2 * r1]!;
  addrLo = (bLo + imm) | 0;
  addrHi = highOfSum(s[2 * r1 + 1]!, bLo, imm, addrLo);
}

function dirty(s: Int32Array): void {
  s[MSTATUS] |= Mstatus.FS_DIRTY;
}

/** A single-precision operand: only a properly NaN-boxed value counts; else canonical NaN. */
function f32(s: Int32Array, i: number): number {
  return s[F + 2 * i + 1] === -1 ? s[F + 2 * i]! >>> 0 : CANONICAL_NAN32;
}

function setF32(s: Int32Array, i: number, v: number): void {
  s[F + 2 * i] = v | 0;
  s[F + 2 * i + 1] = -1;
}

function f64(s: Int32Array, i: number): bigint {
  return (BigInt(s[F + 2 * i + 1]! >>> 0) << 32n) | BigInt(s[F + 2 * i]! >>> 0);
}

function setF64(s: Int32Array, i: number, v: bigint): void {
  s[F + 2 * i] = Number(v & 0xffffffffn) | 0;
  s[F + 2 * i + 1] = Number((v >> 32n) & 0xffffffffn) | 0;
}

/** FSGNJ*.D: the magnitude of fs1 with the given sign bit (as the high word's bit 31). */
function sign64(s: Int32Array, rd: number, r1: number, sign: number): void {
  s[F + 2 * rd] = s[F + 2 * r1]!;
  s[F + 2 * rd + 1] = (s[F + 2 * r1 + 1]! & 0x7fffffff) | sign;
}

function x64(s: Int32Array, i: number, signed: boolean): bigint {
  const v = (BigInt(s[2 * i + 1]! >>> 0) << 32n) | BigInt(s[2 * i]! >>> 0);
  return signed ? BigInt.asIntN(64, v) : v;
}

/** A 32-bit integer result, sign-extended into rd. */
function setX32(s: Int32Array, rd: number, v: number): void {
  if (rd === 0) return;
  s[2 * rd] = v | 0;
  s[2 * rd + 1] = (v | 0) >> 31;
}

function setX64(s: Int32Array, rd: number, v: bigint): void {
  if (rd === 0) return;
  s[2 * rd] = Number(BigInt.asIntN(32, v));
  s[2 * rd + 1] = Number(BigInt.asIntN(32, v >> 32n));
}
