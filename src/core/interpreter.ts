// The interpreter: fetch, decode through the instruction table's dispatch key, execute.
// Registers are int32 halves in guest memory (no BigInt, no allocation per instruction);
// loads, stores and fetches go through software TLBs straight to RAM; everything unusual
// (MMIO, faults, page walks, CSRs, atomics, floating point) leaves for a slow path.

import type { Hart } from './hart.js';
import { TRAP } from './hart.js';
import { F64_INSTRET, FENCE_SCRATCH, PC, PRIV, TLB_MODE_DATA, TLB_MODE_FETCH, WAITING } from './hart-state.js';
import { buildDispatchTable, decodeOp, dispatchKey, Format, INSTRUCTIONS, Op } from './decode/instruction-table.js';
import { buildCompressedTable } from './decode/compressed.js';
import { disassemble, disassembleCompressed } from './decode/disassembler.js';
import { Cause } from './privilege.js';
import { divide, divideWord, mul, mulh, result } from './muldiv.js';
import { highOfSum } from './int64.js';
import { executeSystem } from './system-instructions.js';
import { executeAtomic } from './atomic-instructions.js';
import { executeFloat } from './float-instructions.js';
import { INVALID_TAG, TLB_INDEX_MASK } from './tlb.js';

const DISPATCH = buildDispatchTable();
/** FENCE's immediate field in PAUSE: fm 0, predecessor W, successor none. */
const PAUSE_IMMEDIATE = 0x010;
const COMPRESSED = buildCompressedTable();

/** log2 of the access size of each load, indexed by Op. */
const LOAD_WIDTH = new Uint8Array(256);
LOAD_WIDTH[Op.LB] = 0; LOAD_WIDTH[Op.LBU] = 0;
LOAD_WIDTH[Op.LH] = 1; LOAD_WIDTH[Op.LHU] = 1;
LOAD_WIDTH[Op.LW] = 2; LOAD_WIDTH[Op.LWU] = 2;
LOAD_WIDTH[Op.LD] = 3;

/** A load that missed the TLB or is misaligned: the slow path, then extension into rd. */
function loadSlow(hart: Hart, rd: number, aLo: number, aHi: number, op: Op): void {
  hart.loadSlow(aLo, aHi, 1 << LOAD_WIDTH[op]!);
  let lo = hart.loadLo;
  let hi = 0;
  switch (op) {
    case Op.LB: lo = (lo << 24) >> 24; hi = lo >> 31; break;
    case Op.LH: lo = (lo << 16) >> 16; hi = lo >> 31; break;
    case Op.LW: hi = lo >> 31; break;
    case Op.LD: hi = hart.loadHi; break;
  }
  hart.s[rd] = lo;
  hart.s[rd + 1] = hi;
}

/**
 * A decoded instruction's fields in one word: op (bits 7:0), the word indices of rd (14:8,
 * x0 mapped to the sink), rs1 (20:15), rs2 (26:21), and the length in bytes (29:27).
 */
function packFields(insn: number, op: Op, len: number): number {
  const rd = ((insn >>> 6) & 62) || 64;
  return op | (rd << 8) | (((insn >>> 14) & 62) << 15) | (((insn >>> 19) & 62) << 21) | (len << 27);
}

/** The immediate the interpreter needs for `op`; rarer instructions keep the whole word. */
function immediateOf(insn: number, op: Op): number {
  if (op >= Op.LR_W || (op >= Op.FENCE_I && op <= Op.CSRRCI)) return insn;
  switch (INSTRUCTIONS[op]!.format) {
    case Format.U: return insn & 0xfffff000;
    case Format.J: return ((insn >> 11) & 0xfff00000) | (insn & 0xff000) | ((insn >>> 9) & 0x800) | ((insn >>> 20) & 0x7fe);
    case Format.B: return ((insn >> 19) & 0xfffff000) | ((insn << 4) & 0x800) | ((insn >>> 20) & 0x7e0) | ((insn >>> 7) & 0x1e);
    case Format.S: return ((insn >> 20) & ~31) | ((insn >>> 7) & 31);
    case Format.Shift: return (insn >>> 20) & (op >= Op.SLLIW && op <= Op.SRAIW ? 31 : 63);
    case Format.I: case Format.Load: return insn >> 20;
    default: return 0;
  }
}

/**
 * Runs up to `budget` instructions on `hart` (see Hart.run), or fewer when a jump lands on
 * translated code: then it returns with the pc there for the tier to go on.
 */
export function execute(hart: Hart, budget: number): void {
  const s = hart.s;
  const mem = hart.memory;
  const i32 = mem.i32;
  const u16 = mem.u16;
  const u8 = mem.u8;
  const dispatch = DISPATCH;
  const compressed = COMPRESSED;
  const rTagLo = hart.readTlb.tagLo, rTagHi = hart.readTlb.tagHi, rBase = hart.readTlb.base;
  const wTagLo = hart.writeTlb.tagLo, wTagHi = hart.writeTlb.tagHi, wBase = hart.writeTlb.base;
  const fTagLo = hart.fetchTlb.tagLo, fTagHi = hart.fetchTlb.tagHi, fBase = hart.fetchTlb.base;
  const trace = hart.trace;
  // Jumps to translated code hand over to the tier (never while tracing every instruction).
  const tier = trace === null ? hart.handoffTier : null;
  const fetchTlb = hart.fetchTlb;
  const retiredBase = hart.d[F64_INSTRET]!;

  let pcLo = s[PC]!;
  let pcHi = s[PC + 1]!;
  let executed = 0;
  let limit = budget;
  // The page the pc is in: its virtual tag and byte offset in guest memory (-1: not RAM).
  let pageTagLo = INVALID_TAG;
  let pageTagHi = 0;
  let pageBase = 0;
  let decoded: Int32Array | null = null;
  let dMode = 0;
  let fMode = 0;
  const decodeCache = mem.decodeCache;

  while (executed < budget && !hart.stopRequested) {
    hart.exitLoop = false;
    limit = budget;
    pageTagLo = INVALID_TAG;
    s[PC] = pcLo;
    s[PC + 1] = pcHi;
    const irq = hart.interruptToTake();
    if (irq >= 0) {
      hart.enterTrap(irq, true, 0, 0, pcLo, pcHi);
      pcLo = s[PC]!;
      pcHi = s[PC + 1]!;
    }
    if (s[WAITING] !== 0) break;
    // TLB keys carry the mode bits (tlb.ts), which change only where this loop starts over.
    dMode = s[TLB_MODE_DATA]!;
    fMode = s[TLB_MODE_FETCH]!;
    try {
      while (executed < limit) {
        // ---- fetch and decode, through the page's decode cache when it has one ----
        if ((pcLo & ~0xfff) !== pageTagLo || pcHi !== pageTagHi) {
          const t = (pcLo >>> 12) & TLB_INDEX_MASK;
          if (fTagLo[t] === ((pcLo & ~0xfff) | fMode) && fTagHi[t] === pcHi) {
            pageBase = fBase[t]!;
          } else {
            pageBase = hart.fetchPage(pcLo, pcHi);
          }
          pageTagLo = pcLo & ~0xfff;
          pageTagHi = pcHi;
          decoded = pageBase >= 0 && trace === null ? decodeCache.page(pageBase) : null;
        }
        const slot = pcLo & 0xffe;
        let packed: number;
        let imm: number;
        if (decoded !== null && (packed = decoded[slot]!) !== 0) {
          imm = decoded[slot + 1]!;
        } else {
          let raw: number;
          let insn: number;
          if (pageBase >= 0) raw = u16[(pageBase + slot) >>> 1]!;
          else raw = hart.fetchHalfSlow(pcLo, pcHi);
          let len = 4;
          if ((raw & 3) !== 3) {
            insn = compressed[raw]!;
            len = 2;
            if (insn === 0) hart.raise(Cause.IllegalInstruction, raw, 0);
          } else if (slot !== 0xffe && pageBase >= 0) {
            insn = raw | (u16[((pageBase + slot) >>> 1) + 1]! << 16);
            raw = insn;
          } else {
            // The upper half lies on the next page (or this page is not plain RAM).
            const nLo = (pcLo + 2) | 0;
            const nHi = (nLo >>> 0) < 2 ? (pcHi + 1) | 0 : pcHi;
            insn = raw | (hart.fetchHalfSlow(nLo, nHi) << 16);
            raw = insn;
          }
          if (trace !== null) traceInstruction(hart, trace, raw, len, pcLo, pcHi);
          let op = dispatch[dispatchKey(insn)]! as Op;
          if (op === Op.SLOW) op = decodeOp(insn); // the rest of the word decides; cached per slot below
          if (op === Op.ILLEGAL) hart.raise(Cause.IllegalInstruction, raw, 0);
          packed = packFields(insn, op, len);
          imm = immediateOf(insn, op);
          if (decoded !== null && (len === 2 || slot !== 0xffe)) {
            decoded[slot] = packed;
            decoded[slot + 1] = imm;
          }
        }
        const op = (packed & 0xff) as Op;
        const rd = (packed >>> 8) & 127; // word index of rd; x0 maps to the sink
        const r1 = (packed >>> 15) & 63;
        const r2 = (packed >>> 21) & 63;
        const len = (packed >>> 27) & 7;

        taken: {
        switch (op) {
          // ---- upper immediates and jumps ----
          case Op.LUI:
            s[rd] = imm;
            s[rd + 1] = imm >> 31;
            break;
          case Op.AUIPC: {
            const lo = (pcLo + imm) | 0;
            s[rd + 1] = highOfSum(pcHi, pcLo, imm, lo);
            s[rd] = lo;
            break;
          }
          case Op.JAL: {
            const link = (pcLo + len) | 0;
            s[rd + 1] = (link >>> 0) < len ? (pcHi + 1) | 0 : pcHi;
            s[rd] = link;
            const lo = (pcLo + imm) | 0;
            pcHi = highOfSum(pcHi, pcLo, imm, lo);
            pcLo = lo;
            if (tier !== null && tier.enter(fetchTlb, pcLo, pcHi, fMode)) limit = budget = executed + 1;
            executed++;
            continue;
          }
          case Op.JALR: {
            const bLo = s[r1]!, bHi = s[r1 + 1]!;
            const link = (pcLo + len) | 0;
            s[rd + 1] = (link >>> 0) < len ? (pcHi + 1) | 0 : pcHi;
            s[rd] = link;
            const lo = (bLo + imm) | 0;
            pcHi = highOfSum(bHi, bLo, imm, lo);
            pcLo = lo & ~1;
            if (tier !== null && tier.enter(fetchTlb, pcLo, pcHi, fMode)) limit = budget = executed + 1;
            executed++;
            continue;
          }

          // ---- branches ----
          case Op.BEQ:
            if (s[r1] === s[r2] && s[r1 + 1] === s[r2 + 1]) break taken;
            break;
          case Op.BNE:
            if (s[r1] !== s[r2] || s[r1 + 1] !== s[r2 + 1]) break taken;
            break;
          case Op.BLT: {
            const aHi = s[r1 + 1]!, bHi = s[r2 + 1]!;
            if (aHi < bHi || (aHi === bHi && (s[r1]! >>> 0) < (s[r2]! >>> 0))) break taken;
            break;
          }
          case Op.BGE: {
            const aHi = s[r1 + 1]!, bHi = s[r2 + 1]!;
            if (aHi > bHi || (aHi === bHi && (s[r1]! >>> 0) >= (s[r2]! >>> 0))) break taken;
            break;
          }
          case Op.BLTU: {
            const aHi = s[r1 + 1]! >>> 0, bHi = s[r2 + 1]! >>> 0;
            if (aHi < bHi || (aHi === bHi && (s[r1]! >>> 0) < (s[r2]! >>> 0))) break taken;
            break;
          }
          case Op.BGEU: {
            const aHi = s[r1 + 1]! >>> 0, bHi = s[r2 + 1]! >>> 0;
            if (aHi > bHi || (aHi === bHi && (s[r1]! >>> 0) >= (s[r2]! >>> 0))) break taken;
            break;
          }

          // ---- loads: a TLB hit on an aligned address reads RAM directly ----
          case Op.LB: {
            const bLo = s[r1]!;
            const aLo = (bLo + imm) | 0;
            const aHi = highOfSum(s[r1 + 1]!, bLo, imm, aLo);
            const t = (aLo >>> 12) & TLB_INDEX_MASK;
            if (rTagLo[t] === ((aLo & 0xfffff000) | dMode) && rTagHi[t] === aHi) {
              const off = (rBase[t]! + (aLo & 0xfff)) >>> 0;
              const v = (u8[off]! << 24) >> 24; s[rd] = v; s[rd + 1] = v >> 31;
            } else {
              loadSlow(hart, rd, aLo, aHi, op);
              if (hart.exitLoop) limit = executed + 1;
            }
            break;
          }
          case Op.LBU: {
            const bLo = s[r1]!;
            const aLo = (bLo + imm) | 0;
            const aHi = highOfSum(s[r1 + 1]!, bLo, imm, aLo);
            const t = (aLo >>> 12) & TLB_INDEX_MASK;
            if (rTagLo[t] === ((aLo & 0xfffff000) | dMode) && rTagHi[t] === aHi) {
              const off = (rBase[t]! + (aLo & 0xfff)) >>> 0;
              s[rd] = u8[off]!; s[rd + 1] = 0;
            } else {
              loadSlow(hart, rd, aLo, aHi, op);
              if (hart.exitLoop) limit = executed + 1;
            }
            break;
          }
          case Op.LH: {
            const bLo = s[r1]!;
            const aLo = (bLo + imm) | 0;
            const aHi = highOfSum(s[r1 + 1]!, bLo, imm, aLo);
            const t = (aLo >>> 12) & TLB_INDEX_MASK;
            if (rTagLo[t] === ((aLo & 0xfffff001) | dMode) && rTagHi[t] === aHi) {
              const off = (rBase[t]! + (aLo & 0xfff)) >>> 0;
              const v = (u16[off >>> 1]! << 16) >> 16; s[rd] = v; s[rd + 1] = v >> 31;
            } else {
              loadSlow(hart, rd, aLo, aHi, op);
              if (hart.exitLoop) limit = executed + 1;
            }
            break;
          }
          case Op.LHU: {
            const bLo = s[r1]!;
            const aLo = (bLo + imm) | 0;
            const aHi = highOfSum(s[r1 + 1]!, bLo, imm, aLo);
            const t = (aLo >>> 12) & TLB_INDEX_MASK;
            if (rTagLo[t] === ((aLo & 0xfffff001) | dMode) && rTagHi[t] === aHi) {
              const off = (rBase[t]! + (aLo & 0xfff)) >>> 0;
              s[rd] = u16[off >>> 1]!; s[rd + 1] = 0;
            } else {
              loadSlow(hart, rd, aLo, aHi, op);
              if (hart.exitLoop) limit = executed + 1;
            }
            break;
          }
          case Op.LW: {
            const bLo = s[r1]!;
            const aLo = (bLo + imm) | 0;
            const aHi = highOfSum(s[r1 + 1]!, bLo, imm, aLo);
            const t = (aLo >>> 12) & TLB_INDEX_MASK;
            if (rTagLo[t] === ((aLo & 0xfffff003) | dMode) && rTagHi[t] === aHi) {
              const off = (rBase[t]! + (aLo & 0xfff)) >>> 0;
              const v = i32[off >>> 2]!; s[rd] = v; s[rd + 1] = v >> 31;
            } else {
              loadSlow(hart, rd, aLo, aHi, op);
              if (hart.exitLoop) limit = executed + 1;
            }
            break;
          }
          case Op.LWU: {
            const bLo = s[r1]!;
            const aLo = (bLo + imm) | 0;
            const aHi = highOfSum(s[r1 + 1]!, bLo, imm, aLo);
            const t = (aLo >>> 12) & TLB_INDEX_MASK;
            if (rTagLo[t] === ((aLo & 0xfffff003) | dMode) && rTagHi[t] === aHi) {
              const off = (rBase[t]! + (aLo & 0xfff)) >>> 0;
              s[rd] = i32[off >>> 2]!; s[rd + 1] = 0;
            } else {
              loadSlow(hart, rd, aLo, aHi, op);
              if (hart.exitLoop) limit = executed + 1;
            }
            break;
          }
          case Op.LD: {
            const bLo = s[r1]!;
            const aLo = (bLo + imm) | 0;
            const aHi = highOfSum(s[r1 + 1]!, bLo, imm, aLo);
            const t = (aLo >>> 12) & TLB_INDEX_MASK;
            if (rTagLo[t] === ((aLo & 0xfffff007) | dMode) && rTagHi[t] === aHi) {
              const off = (rBase[t]! + (aLo & 0xfff)) >>> 0;
              s[rd] = i32[off >>> 2]!; s[rd + 1] = i32[(off >>> 2) + 1]!;
            } else {
              loadSlow(hart, rd, aLo, aHi, op);
              if (hart.exitLoop) limit = executed + 1;
            }
            break;
          }

          // ---- stores ----
          case Op.SB: {
            const bLo = s[r1]!;
            const aLo = (bLo + imm) | 0;
            const aHi = highOfSum(s[r1 + 1]!, bLo, imm, aLo);
            const t = (aLo >>> 12) & TLB_INDEX_MASK;
            if (wTagLo[t] === ((aLo & 0xfffff000) | dMode) && wTagHi[t] === aHi) {
              const off = (wBase[t]! + (aLo & 0xfff)) >>> 0;
              u8[off] = s[r2]!;
            } else {
              hart.storeSlow(aLo, aHi, 1 << (op - Op.SB), s[r2]!, s[r2 + 1]!);
              if (hart.exitLoop) limit = executed + 1;
            }
            break;
          }
          case Op.SH: {
            const bLo = s[r1]!;
            const aLo = (bLo + imm) | 0;
            const aHi = highOfSum(s[r1 + 1]!, bLo, imm, aLo);
            const t = (aLo >>> 12) & TLB_INDEX_MASK;
            if (wTagLo[t] === ((aLo & 0xfffff001) | dMode) && wTagHi[t] === aHi) {
              const off = (wBase[t]! + (aLo & 0xfff)) >>> 0;
              u16[off >>> 1] = s[r2]!;
            } else {
              hart.storeSlow(aLo, aHi, 1 << (op - Op.SB), s[r2]!, s[r2 + 1]!);
              if (hart.exitLoop) limit = executed + 1;
            }
            break;
          }
          case Op.SW: {
            const bLo = s[r1]!;
            const aLo = (bLo + imm) | 0;
            const aHi = highOfSum(s[r1 + 1]!, bLo, imm, aLo);
            const t = (aLo >>> 12) & TLB_INDEX_MASK;
            if (wTagLo[t] === ((aLo & 0xfffff003) | dMode) && wTagHi[t] === aHi) {
              const off = (wBase[t]! + (aLo & 0xfff)) >>> 0;
              i32[off >>> 2] = s[r2]!;
            } else {
              hart.storeSlow(aLo, aHi, 1 << (op - Op.SB), s[r2]!, s[r2 + 1]!);
              if (hart.exitLoop) limit = executed + 1;
            }
            break;
          }
          case Op.SD: {
            const bLo = s[r1]!;
            const aLo = (bLo + imm) | 0;
            const aHi = highOfSum(s[r1 + 1]!, bLo, imm, aLo);
            const t = (aLo >>> 12) & TLB_INDEX_MASK;
            if (wTagLo[t] === ((aLo & 0xfffff007) | dMode) && wTagHi[t] === aHi) {
              const off = (wBase[t]! + (aLo & 0xfff)) >>> 0;
              i32[off >>> 2] = s[r2]!; i32[(off >>> 2) + 1] = s[r2 + 1]!;
            } else {
              hart.storeSlow(aLo, aHi, 1 << (op - Op.SB), s[r2]!, s[r2 + 1]!);
              if (hart.exitLoop) limit = executed + 1;
            }
            break;
          }

          // ---- integer register-immediate ----
          case Op.ADDI: {
            const aLo = s[r1]!;
            const lo = (aLo + imm) | 0;
            s[rd + 1] = highOfSum(s[r1 + 1]!, aLo, imm, lo);
            s[rd] = lo;
            break;
          }
          case Op.SLTI: {
            const aHi = s[r1 + 1]!, bHi = imm >> 31;
            s[rd] = aHi < bHi || (aHi === bHi && (s[r1]! >>> 0) < (imm >>> 0)) ? 1 : 0;
            s[rd + 1] = 0;
            break;
          }
          case Op.SLTIU: {
            const aHi = s[r1 + 1]! >>> 0, bHi = (imm >> 31) >>> 0;
            s[rd] = aHi < bHi || (aHi === bHi && (s[r1]! >>> 0) < (imm >>> 0)) ? 1 : 0;
            s[rd + 1] = 0;
            break;
          }
          case Op.XORI: { s[rd + 1] = s[r1 + 1]! ^ (imm >> 31); s[rd] = s[r1]! ^ imm; break; }
          case Op.ORI: { s[rd + 1] = s[r1 + 1]! | (imm >> 31); s[rd] = s[r1]! | imm; break; }
          case Op.ANDI: { s[rd + 1] = s[r1 + 1]! & (imm >> 31); s[rd] = s[r1]! & imm; break; }
          case Op.SLLI: shiftLeft(s, rd, s[r1]!, s[r1 + 1]!, imm); break;
          case Op.SRLI: shiftRight(s, rd, s[r1]!, s[r1 + 1]!, imm, false); break;
          case Op.SRAI: shiftRight(s, rd, s[r1]!, s[r1 + 1]!, imm, true); break;

          // ---- integer register-register ----
          case Op.ADD: {
            const aLo = s[r1]!, bLo = s[r2]!;
            const lo = (aLo + bLo) | 0;
            s[rd + 1] = (s[r1 + 1]! + s[r2 + 1]! + ((lo >>> 0) < (aLo >>> 0) ? 1 : 0)) | 0;
            s[rd] = lo;
            break;
          }
          case Op.SUB: {
            const aLo = s[r1]!, bLo = s[r2]!;
            s[rd + 1] = (s[r1 + 1]! - s[r2 + 1]! - ((aLo >>> 0) < (bLo >>> 0) ? 1 : 0)) | 0;
            s[rd] = (aLo - bLo) | 0;
            break;
          }
          case Op.SLL: shiftLeft(s, rd, s[r1]!, s[r1 + 1]!, s[r2]! & 63); break;
          case Op.SRL: shiftRight(s, rd, s[r1]!, s[r1 + 1]!, s[r2]! & 63, false); break;
          case Op.SRA: shiftRight(s, rd, s[r1]!, s[r1 + 1]!, s[r2]! & 63, true); break;
          case Op.SLT: {
            const aHi = s[r1 + 1]!, bHi = s[r2 + 1]!;
            s[rd] = aHi < bHi || (aHi === bHi && (s[r1]! >>> 0) < (s[r2]! >>> 0)) ? 1 : 0;
            s[rd + 1] = 0;
            break;
          }
          case Op.SLTU: {
            const aHi = s[r1 + 1]! >>> 0, bHi = s[r2 + 1]! >>> 0;
            s[rd] = aHi < bHi || (aHi === bHi && (s[r1]! >>> 0) < (s[r2]! >>> 0)) ? 1 : 0;
            s[rd + 1] = 0;
            break;
          }
          case Op.XOR: s[rd + 1] = s[r1 + 1]! ^ s[r2 + 1]!; s[rd] = s[r1]! ^ s[r2]!; break;
          case Op.OR: s[rd + 1] = s[r1 + 1]! | s[r2 + 1]!; s[rd] = s[r1]! | s[r2]!; break;
          case Op.AND: s[rd + 1] = s[r1 + 1]! & s[r2 + 1]!; s[rd] = s[r1]! & s[r2]!; break;

          // ---- 32-bit operations, results sign-extended ----
          case Op.ADDIW: { const v = (s[r1]! + imm) | 0; s[rd] = v; s[rd + 1] = v >> 31; break; }
          case Op.SLLIW: { const v = s[r1]! << imm; s[rd] = v; s[rd + 1] = v >> 31; break; }
          case Op.SRLIW: { const v = (s[r1]! >>> imm) | 0; s[rd] = v; s[rd + 1] = v >> 31; break; }
          case Op.SRAIW: { const v = s[r1]! >> imm; s[rd] = v; s[rd + 1] = v >> 31; break; }
          case Op.ADDW: { const v = (s[r1]! + s[r2]!) | 0; s[rd] = v; s[rd + 1] = v >> 31; break; }
          case Op.SUBW: { const v = (s[r1]! - s[r2]!) | 0; s[rd] = v; s[rd + 1] = v >> 31; break; }
          case Op.SLLW: { const v = s[r1]! << (s[r2]! & 31); s[rd] = v; s[rd + 1] = v >> 31; break; }
          case Op.SRLW: { const v = (s[r1]! >>> (s[r2]! & 31)) | 0; s[rd] = v; s[rd + 1] = v >> 31; break; }
          case Op.SRAW: { const v = s[r1]! >> (s[r2]! & 31); s[rd] = v; s[rd + 1] = v >> 31; break; }

          // ---- M extension ----
          case Op.MUL: mul(s[r1]!, s[r1 + 1]!, s[r2]!, s[r2 + 1]!); s[rd] = result.lo; s[rd + 1] = result.hi; break;
          case Op.MULH: mulh(s[r1]!, s[r1 + 1]!, s[r2]!, s[r2 + 1]!, true, true); s[rd] = result.lo; s[rd + 1] = result.hi; break;
          case Op.MULHSU: mulh(s[r1]!, s[r1 + 1]!, s[r2]!, s[r2 + 1]!, true, false); s[rd] = result.lo; s[rd + 1] = result.hi; break;
          case Op.MULHU: mulh(s[r1]!, s[r1 + 1]!, s[r2]!, s[r2 + 1]!, false, false); s[rd] = result.lo; s[rd + 1] = result.hi; break;
          case Op.DIV: divide(s[r1]!, s[r1 + 1]!, s[r2]!, s[r2 + 1]!, true, false); s[rd] = result.lo; s[rd + 1] = result.hi; break;
          case Op.DIVU: divide(s[r1]!, s[r1 + 1]!, s[r2]!, s[r2 + 1]!, false, false); s[rd] = result.lo; s[rd + 1] = result.hi; break;
          case Op.REM: divide(s[r1]!, s[r1 + 1]!, s[r2]!, s[r2 + 1]!, true, true); s[rd] = result.lo; s[rd + 1] = result.hi; break;
          case Op.REMU: divide(s[r1]!, s[r1 + 1]!, s[r2]!, s[r2 + 1]!, false, true); s[rd] = result.lo; s[rd + 1] = result.hi; break;
          case Op.MULW: { const v = Math.imul(s[r1]!, s[r2]!); s[rd] = v; s[rd + 1] = v >> 31; break; }
          case Op.DIVW: { const v = divideWord(s[r1]!, s[r2]!, true, false); s[rd] = v; s[rd + 1] = v >> 31; break; }
          case Op.DIVUW: { const v = divideWord(s[r1]!, s[r2]!, false, false); s[rd] = v; s[rd + 1] = v >> 31; break; }
          case Op.REMW: { const v = divideWord(s[r1]!, s[r2]!, true, true); s[rd] = v; s[rd + 1] = v >> 31; break; }
          case Op.REMUW: { const v = divideWord(s[r1]!, s[r2]!, false, true); s[rd] = v; s[rd + 1] = v >> 31; break; }

          case Op.FENCE:
            // One hart's accesses complete in order; other threads' need the host's fence.
            if (mem.shared) {
              Atomics.add(s, FENCE_SCRATCH, 0);
              // PAUSE (Zihintpause, a FENCE hint) marks a spin-wait: the hart's thread may give
              // its host core to the hart being waited for.
              if (imm === PAUSE_IMMEDIATE && hart.yieldOnPause) {
                hart.pauseSeen = true;
                hart.requestStop();
                limit = executed + 1;
              }
            }
            break;
          default: {
            // The rarer instructions keep the whole word as their "immediate".
            const raw = len !== 2 ? imm : pageBase >= 0 ? u16[(pageBase + slot) >>> 1]! : hart.fetchHalfSlow(pcLo, pcHi);
            if (op >= Op.FLW) {
              executeFloat(hart, imm, op, raw);
              if (hart.exitLoop) limit = executed + 1;
            } else if (op >= Op.LR_W) {
              executeAtomic(hart, imm, op);
              if (hart.exitLoop) limit = executed + 1;
            } else {
              // System instructions may change privilege, the pc, translation or counters.
              hart.d[F64_INSTRET] = retiredBase + executed;
              s[PC] = pcLo;
              s[PC + 1] = pcHi;
              if (executeSystem(hart, imm, op, raw)) {
                pcLo = s[PC]!;
                pcHi = s[PC + 1]!;
                executed++;
                limit = executed;
                continue;
              }
              if (hart.exitLoop) limit = executed + 1;
            }
            break;
          }
        }
        pcLo = (pcLo + len) | 0;
        if ((pcLo >>> 0) < len) pcHi = (pcHi + 1) | 0;
        executed++;
        continue;
        }
        // A taken branch: pc + B-immediate (always 2-byte aligned, so never misaligned with C).
        const lo = (pcLo + imm) | 0;
        pcHi = highOfSum(pcHi, pcLo, imm, lo);
        pcLo = lo;
        if (tier !== null && tier.enter(fetchTlb, pcLo, pcHi, fMode)) limit = budget = executed + 1;
        executed++;
      }
    } catch (e) {
      if (e !== TRAP) {
        s[PC] = pcLo;
        s[PC + 1] = pcHi;
        hart.d[F64_INSTRET] = retiredBase + executed;
        throw e;
      }
      hart.enterTrap(hart.trapCause, false, hart.trapTvalLo, hart.trapTvalHi, pcLo, pcHi);
      hart.trapsTaken++;
      pcLo = s[PC]!;
      pcHi = s[PC + 1]!;
      // A trap retires nothing but still spends budget, so a trap loop cannot hang the host.
      budget--;
    }
  }
  s[PC] = pcLo;
  s[PC + 1] = pcHi;
  hart.d[F64_INSTRET] = retiredBase + executed;
}

function shiftLeft(s: Int32Array, rd: number, lo: number, hi: number, n: number): void {
  if (n === 0) { s[rd] = lo; s[rd + 1] = hi; } else if (n < 32) { s[rd + 1] = (hi << n) | (lo >>> (32 - n)); s[rd] = lo << n; } else { s[rd + 1] = lo << (n - 32); s[rd] = 0; }
}

function shiftRight(s: Int32Array, rd: number, lo: number, hi: number, n: number, arithmetic: boolean): void {
  if (n === 0) {
    s[rd] = lo;
    s[rd + 1] = hi;
  } else if (n < 32) {
    s[rd] = (lo >>> n) | (hi << (32 - n));
    s[rd + 1] = arithmetic ? hi >> n : (hi >>> n) | 0;
  } else {
    s[rd] = arithmetic ? hi >> (n - 32) : (hi >>> (n - 32)) | 0;
    s[rd + 1] = arithmetic ? hi >> 31 : 0;
  }
}

function traceInstruction(hart: Hart, trace: (line: string) => void, raw: number, len: number, pcLo: number, pcHi: number): void {
  const pc = BigInt.asUintN(64, (BigInt(pcHi) << 32n) | BigInt(pcLo >>> 0));
  const text = len === 2 ? disassembleCompressed(raw, pc) : disassemble(raw, pc);
  const bits = len === 2 ? raw.toString(16).padStart(4, '0') : (raw >>> 0).toString(16).padStart(8, '0');
  trace(`${'USHM'[hart.s[PRIV]!]} ${pc.toString(16).padStart(16, '0')} ${bits.padStart(8)} ${text}`);
}
