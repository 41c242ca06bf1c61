// Text form of RV64GC instructions for traces and debuggers, driven by INSTRUCTIONS.
// Syntax follows GNU objdump with -M no-aliases: "name<TAB>op,op", ABI register names,
// decimal immediates, hex for lui/auipc immediates and shift amounts.

import { INSTRUCTIONS, Op, Format, decodeOp } from './instruction-table.js';
import { expandCompressed } from './compressed.js';
import { csrName } from './csr-names.js';

const X_NAMES = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];
const F_NAMES = [
  'ft0', 'ft1', 'ft2', 'ft3', 'ft4', 'ft5', 'ft6', 'ft7', 'fs0', 'fs1', 'fa0', 'fa1', 'fa2', 'fa3',
  'fa4', 'fa5', 'fa6', 'fa7', 'fs2', 'fs3', 'fs4', 'fs5', 'fs6', 'fs7', 'fs8', 'fs9', 'fs10', 'fs11',
  'ft8', 'ft9', 'ft10', 'ft11',
];
/** Unpriv. 11.2 table 11.1; 5 and 6 are reserved (objdump says "unknown"). */
const RM_NAMES = ['rne', 'rtz', 'rdn', 'rup', 'rmm', 'unknown', 'unknown', 'dyn'];
const RM_DYN = 7;

/** FP instructions whose rd is an integer register. */
const INT_RD = new Set<Op>([
  Op.FEQ_S, Op.FLT_S, Op.FLE_S, Op.FCVT_W_S, Op.FCVT_WU_S, Op.FCVT_L_S, Op.FCVT_LU_S,
  Op.FEQ_D, Op.FLT_D, Op.FLE_D, Op.FCVT_W_D, Op.FCVT_WU_D, Op.FCVT_L_D, Op.FCVT_LU_D,
]);
/** FP instructions whose rs1 is an integer register. */
const INT_RS1 = new Set<Op>([
  Op.FCVT_S_W, Op.FCVT_S_WU, Op.FCVT_S_L, Op.FCVT_S_LU,
  Op.FCVT_D_W, Op.FCVT_D_WU, Op.FCVT_D_L, Op.FCVT_D_LU,
]);
/** Conversions that are always exact: assemblers encode rm = rne, so only other modes show. */
const EXACT = new Set<Op>([Op.FCVT_D_S, Op.FCVT_D_W, Op.FCVT_D_WU]);

const x = (n: number): string => X_NAMES[n & 31]!;
const f = (n: number): string => F_NAMES[n & 31]!;
const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

// Immediate layouts: Unpriv. 2.3, figure 2.4.
const immI = (w: number): number => w >> 20;
const immS = (w: number): number => ((w >> 25) << 5) | ((w >>> 7) & 0x1f);
const immB = (w: number): number =>
  ((w >> 31) << 12) | (((w >>> 7) & 1) << 11) | (((w >>> 25) & 0x3f) << 5) | (((w >>> 8) & 0xf) << 1);
const immJ = (w: number): number =>
  ((w >> 31) << 20) | (w & 0xff000) | (((w >>> 20) & 1) << 11) | (((w >>> 21) & 0x3ff) << 1);

/** Absolute target in hex when pc is known, else ".+off" / ".-off" (assembler syntax). */
function target(offset: number, pc: bigint | undefined): string {
  if (pc === undefined) return offset < 0 ? `.-${-offset}` : `.+${offset}`;
  return `0x${BigInt.asUintN(64, pc + BigInt(offset)).toString(16)}`;
}

/** FENCE predecessor/successor set (Unpriv. 2.7): letters i o r w, "0" for the empty set. */
function fenceSet(bits: number): string {
  if (bits === 0) return '0';
  return (bits & 8 ? 'i' : '') + (bits & 4 ? 'o' : '') + (bits & 2 ? 'r' : '') + (bits & 1 ? 'w' : '');
}

/** ",rm" unless the rounding mode is dynamic (or rne on an exact conversion). */
function rm(op: Op, w: number): string {
  const mode = (w >>> 12) & 7;
  if (mode === RM_DYN || (mode === 0 && EXACT.has(op))) return '';
  return `,${RM_NAMES[mode]}`;
}

function operands(op: Op, format: Format, w: number, pc: bigint | undefined): string {
  const rd = (w >>> 7) & 31, rs1 = (w >>> 15) & 31, rs2 = (w >>> 20) & 31, rs3 = w >>> 27;
  const csr = (w >>> 20) & 0xfff;
  switch (format) {
    case Format.U: return `${x(rd)},${hex(w >>> 12)}`;
    case Format.J: return `${x(rd)},${target(immJ(w), pc)}`;
    case Format.I: return `${x(rd)},${x(rs1)},${immI(w)}`;
    case Format.S: {
      const src = op === Op.FSW || op === Op.FSD ? f(rs2) : x(rs2);
      return `${src},${immS(w)}(${x(rs1)})`;
    }
    case Format.B: return `${x(rs1)},${x(rs2)},${target(immB(w), pc)}`;
    case Format.R: return `${x(rd)},${x(rs1)},${x(rs2)}`;
    case Format.Shift: return `${x(rd)},${x(rs1)},${hex((w >>> 20) & 0x3f)}`;
    case Format.Load: {
      const dst = op === Op.FLW || op === Op.FLD ? f(rd) : x(rd);
      return `${dst},${immI(w)}(${x(rs1)})`;
    }
    case Format.Csr: return `${x(rd)},${csrName(csr) ?? hex(csr)},${x(rs1)}`;
    case Format.CsrImm: return `${x(rd)},${csrName(csr) ?? hex(csr)},${rs1}`;
    case Format.Amo: return `${x(rd)},${x(rs2)},(${x(rs1)})`;
    case Format.Lr: return `${x(rd)},(${x(rs1)})`;
    case Format.R4: return `${f(rd)},${f(rs1)},${f(rs2)},${f(rs3)}${rm(op, w)}`;
    case Format.FpR: return `${f(rd)},${f(rs1)},${f(rs2)}${rm(op, w)}`;
    case Format.FpRNoRm: return `${INT_RD.has(op) ? x(rd) : f(rd)},${f(rs1)},${f(rs2)}`;
    case Format.FpUnary:
      return `${INT_RD.has(op) ? x(rd) : f(rd)},${INT_RS1.has(op) ? x(rs1) : f(rs1)}${rm(op, w)}`;
    case Format.FpToInt: return `${x(rd)},${f(rs1)}`;
    case Format.IntToFp: return `${f(rd)},${x(rs1)}`;
    case Format.Fence: return `${fenceSet((w >>> 24) & 15)},${fenceSet((w >>> 20) & 15)}`;
    case Format.SfenceVma: return `${x(rs1)},${x(rs2)}`;
    case Format.None: return '';
  }
}

/** Mnemonic with the A-extension ordering suffix (Unpriv. 8.1): .aq, .rl or .aqrl. */
function mnemonic(op: Op, format: Format, w: number): string {
  const name = INSTRUCTIONS[op]!.name;
  if (format !== Format.Amo && format !== Format.Lr) return name;
  const aq = (w >>> 26) & 1, rl = (w >>> 25) & 1;
  return name + (aq && rl ? '.aqrl' : aq ? '.aq' : rl ? '.rl' : '');
}

/**
 * Disassembles a 32-bit instruction word; `pc` turns branch and jump offsets into absolute
 * addresses. Words that do not decode print as ".4byte 0x...".
 */
export function disassemble(insn: number, pc?: bigint): string {
  const op = decodeOp(insn);
  if (op === Op.ILLEGAL) return `.4byte\t${hex(insn)}`;
  // FENCE.TSO is FENCE with fm = 1000 and pred = succ = rw (Unpriv. 2.7).
  if (op === Op.FENCE && (insn >>> 20) === 0x833) return 'fence.tso';
  const format = INSTRUCTIONS[op]!.format;
  const args = operands(op, format, insn, pc);
  const name = mnemonic(op, format, insn);
  return args === '' ? name : `${name}\t${args}`;
}

/**
 * Disassembles a 16-bit RVC instruction as the instruction it expands to, marked with a
 * "c." prefix (e.g. C.LI a0,5 shows as "c.addi\ta0,zero,5"). Illegal halfwords print as
 * ".2byte 0x...".
 */
export function disassembleCompressed(half: number, pc?: bigint): string {
  const word = expandCompressed(half);
  if (word === 0) return `.2byte\t${hex(half & 0xffff)}`;
  return `c.${disassemble(word, pc)}`;
}
