// The A extension: LR/SC with a reservation and the AMOs (Unprivileged ISA chapter 8).
// Atomic accesses must be naturally aligned and in RAM; they probe the data TLBs first.

import type { Hart } from './hart.js';
import { F64_RESERVATION_ADDRESS, RESERVATION_VALID, RESERVATION_VALUE, TLB_MODE_DATA } from './hart-state.js';
import { Op } from './decode/instruction-table.js';

export function executeAtomic(hart: Hart, insn: number, op: Op): void {
  const s = hart.s;
  const i32 = hart.memory.i32;
  const wide = op >= Op.LR_D;
  const size = wide ? 8 : 4;
  const rd = ((insn >>> 6) & 62) || 64;
  const r1 = (insn >>> 14) & 62;
  const r2 = (insn >>> 19) & 62;
  const aLo = s[r1]!;
  const aHi = s[r1 + 1]!;
  const base = wide ? Op.LR_D : Op.LR_W;
  const kind = op - base + Op.LR_W;

  const shared = hart.memory.shared;
  if (kind === Op.LR_W) {
    if (((insn >>> 20) & 31) !== 0) hart.raise(2, insn, 0);
    const off = atomicOffset(hart, aLo, aHi, size, true);
    if (shared) readShared(hart, off, wide);
    else {
      read.lo = i32[off >>> 2]!;
      read.hi = wide ? i32[(off >>> 2) + 1]! : read.lo >> 31;
    }
    s[rd] = read.lo;
    s[rd + 1] = read.hi;
    s[RESERVATION_VALUE] = read.lo;
    s[RESERVATION_VALUE + 1] = read.hi;
    s[RESERVATION_VALID] = 1;
    hart.d[F64_RESERVATION_ADDRESS] = hart.physicalOf(off);
    return;
  }
  const bLo = s[r2]!;
  const bHi = s[r2 + 1]!;
  const off = atomicOffset(hart, aLo, aHi, size, false);
  if (shared) {
    executeShared(hart, kind, off, wide, bLo, bHi, rd);
    return;
  }
  const w = off >>> 2;
  if (kind === Op.SC_W) {
    const ok = s[RESERVATION_VALID] === 1 && hart.d[F64_RESERVATION_ADDRESS] === hart.physicalOf(off);
    s[RESERVATION_VALID] = 0;
    if (ok) {
      i32[w] = bLo;
      if (wide) i32[w + 1] = bHi;
      hart.noteWrite(off, size);
    }
    s[rd] = ok ? 0 : 1;
    s[rd + 1] = 0;
    return;
  }
  const oldLo = i32[w]!;
  const oldHi = wide ? i32[w + 1]! : oldLo >> 31;
  amoValue(kind, wide, oldLo, oldHi, bLo, bHi);
  const { lo, hi } = result;
  i32[w] = lo;
  if (wide) i32[w + 1] = hi;
  hart.noteWrite(off, size);
  s[rd] = oldLo;
  s[rd + 1] = oldHi;
}

/**
 * The guest-memory byte offset of an atomic access: from the TLBs when they prove it allowed,
 * else through hart.atomicOffset (alignment, translation, RAM and PMP checks, traps, fills).
 * LR needs a read-TLB hit. SC and AMOs need a write-TLB hit (store permission, A and D set,
 * no decoded code in the page) and also a read-TLB hit on the same physical page: the page
 * tables cannot make W without R, but PMP state might, and a stale read entry for another
 * page proves nothing. The keys keep the alignment bits, so a misaligned access misses and
 * traps in the slow path.
 */
function atomicOffset(hart: Hart, aLo: number, aHi: number, size: 4 | 8, isLoadReserved: boolean): number {
  const mode = hart.s[TLB_MODE_DATA]!;
  const read = hart.readTlb.offsetOf(aLo, aHi, size, mode);
  if (read >= 0 && (isLoadReserved || hart.writeTlb.offsetOf(aLo, aHi, size, mode) === read)) return read;
  return hart.atomicOffset(aLo, aHi, size, isLoadReserved);
}

/** Results of the helpers below (module-level so the hot path allocates nothing). */
const read = { lo: 0, hi: 0 };
const result = { lo: 0, hi: 0 };

/** Sets `result` to what an AMO of `kind` stores over the old value with operand b (.W: low words only count). */
function amoValue(kind: Op, wide: boolean, oldLo: number, oldHi: number, bLo: number, bHi: number): void {
  // For .W the operands are the low words, compared as 32-bit values.
  const xHi = wide ? oldHi : oldLo >> 31;
  const yHi = wide ? bHi : bLo >> 31;
  let lo: number;
  let hi: number;
  switch (kind) {
    case Op.AMOSWAP_W: lo = bLo; hi = bHi; break;
    case Op.AMOADD_W: lo = (oldLo + bLo) | 0; hi = (oldHi + bHi + ((lo >>> 0) < (oldLo >>> 0) ? 1 : 0)) | 0; break;
    case Op.AMOXOR_W: lo = oldLo ^ bLo; hi = oldHi ^ bHi; break;
    case Op.AMOAND_W: lo = oldLo & bLo; hi = oldHi & bHi; break;
    case Op.AMOOR_W: lo = oldLo | bLo; hi = oldHi | bHi; break;
    default: {
      const signed = kind === Op.AMOMIN_W || kind === Op.AMOMAX_W;
      const xh = signed ? xHi : xHi >>> 0;
      const yh = signed ? yHi : yHi >>> 0;
      const less = xh < yh || (xh === yh && (oldLo >>> 0) < (bLo >>> 0));
      const wantMin = kind === Op.AMOMIN_W || kind === Op.AMOMINU_W;
      const takeOld = wantMin ? less : !less;
      lo = takeOld ? oldLo : bLo;
      hi = takeOld ? oldHi : bHi;
    }
  }
  result.lo = lo;
  result.hi = hi;
}

const toBigInt = (lo: number, hi: number): bigint => BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo >>> 0));

/** Sets `read` from one atomic load (sign-extended for .W). */
function readShared(hart: Hart, off: number, wide: boolean): void {
  if (wide) {
    const v = Atomics.load(hart.memory.i64, off >>> 3);
    read.lo = Number(BigInt.asIntN(32, v));
    read.hi = Number(v >> 32n);
  } else {
    read.lo = Atomics.load(hart.memory.i32, off >>> 2);
    read.hi = read.lo >> 31;
  }
}

/** Replaces the value at `off` when it still equals (expLo, expHi): one host compare-and-swap. */
function compareAndSwap(hart: Hart, off: number, wide: boolean, expLo: number, expHi: number, lo: number, hi: number): boolean {
  if (!wide) return Atomics.compareExchange(hart.memory.i32, off >>> 2, expLo, lo) === expLo;
  const expected = toBigInt(expLo, expHi);
  return Atomics.compareExchange(hart.memory.i64, off >>> 3, expected, toBigInt(lo, hi)) === expected;
}

/**
 * SC and the AMOs while other harts run on other threads. SC succeeds when the reservation is
 * this hart's for this address and memory still holds the value LR read (a store of another
 * value by any hart breaks it), as one compare-and-swap; an AMO is a compare-and-swap loop,
 * so it is atomic against every other hart's atomics and stores.
 */
function executeShared(hart: Hart, kind: Op, off: number, wide: boolean, bLo: number, bHi: number, rd: number): void {
  const s = hart.s;
  const size = wide ? 8 : 4;
  if (kind === Op.SC_W) {
    const reserved = s[RESERVATION_VALID] === 1 && hart.d[F64_RESERVATION_ADDRESS] === hart.physicalOf(off);
    s[RESERVATION_VALID] = 0;
    const ok = reserved && compareAndSwap(hart, off, wide, s[RESERVATION_VALUE]!, s[RESERVATION_VALUE + 1]!, bLo, bHi);
    if (ok) hart.noteWrite(off, size);
    s[rd] = ok ? 0 : 1;
    s[rd + 1] = 0;
    return;
  }
  for (;;) {
    readShared(hart, off, wide);
    const oldLo = read.lo;
    const oldHi = read.hi;
    amoValue(kind, wide, oldLo, oldHi, bLo, bHi);
    if (compareAndSwap(hart, off, wide, oldLo, oldHi, result.lo, result.hi)) {
      hart.noteWrite(off, size);
      s[rd] = oldLo;
      s[rd + 1] = oldHi;
      return;
    }
  }
}
