// binary64 arithmetic on bigint bit patterns. Round-to-nearest-even uses host doubles with
// error-free transformations to detect inexact results; other modes, results near the
// subnormal or overflow range, special operands and fused multiply-add take the exact path.

import { F64 } from './float-format.js';
import { addExact, divExact, fmaExact, mulExact, sqrtExact } from './exact-arithmetic.js';
import { f64Bits, f64Value } from './float-bits.js';
import { inSafeRange, productError, sumError } from './error-free.js';
import { FLAG_NX, RM_RNE, checkRoundingMode, raiseFlags } from './rounding.js';

const SIGN = 0x8000000000000000n;

export function add64(a: bigint, b: bigint, rm: number): bigint {
  checkRoundingMode(rm, 'add64');
  if (rm === RM_RNE) {
    const x = f64Value(a);
    const y = f64Value(b);
    const s = x + y;
    if (Number.isFinite(s)) {
      // A finite s means finite operands; a sum in the subnormal range is always exact.
      const e = sumError(x, y, s);
      if (e === 0) return f64Bits(s);
      if (Number.isFinite(e)) {
        raiseFlags(FLAG_NX);
        return f64Bits(s);
      }
    }
  }
  return addExact(F64, a, b, rm);
}

export function sub64(a: bigint, b: bigint, rm: number): bigint {
  return add64(a, b ^ SIGN, rm);
}

export function mul64(a: bigint, b: bigint, rm: number): bigint {
  checkRoundingMode(rm, 'mul64');
  if (rm === RM_RNE) {
    const x = f64Value(a);
    const y = f64Value(b);
    const p = x * y;
    if (inSafeRange(x) && inSafeRange(y) && inSafeRange(p)) {
      if (productError(x, y, p) !== 0) raiseFlags(FLAG_NX);
      return f64Bits(p);
    }
    if (p === 0 && Number.isFinite(x) && Number.isFinite(y) && (x === 0 || y === 0)) return f64Bits(p);
  }
  return mulExact(F64, a, b, rm);
}

export function div64(a: bigint, b: bigint, rm: number): bigint {
  checkRoundingMode(rm, 'div64');
  if (rm === RM_RNE) {
    const x = f64Value(a);
    const y = f64Value(b);
    const q = x / y;
    if (inSafeRange(x) && inSafeRange(y) && inSafeRange(q)) {
      // The quotient is exact iff q * y reproduces x exactly.
      const p = q * y;
      if (p !== x || productError(q, y, p) !== 0) raiseFlags(FLAG_NX);
      return f64Bits(q);
    }
    if (x === 0 && y !== 0 && Number.isFinite(y)) return f64Bits(q);
  }
  return divExact(F64, a, b, rm);
}

export function sqrt64(a: bigint, rm: number): bigint {
  checkRoundingMode(rm, 'sqrt64');
  if (rm === RM_RNE) {
    const x = f64Value(a);
    if (x > 0 && inSafeRange(x)) {
      // Math.sqrt is the host's correctly rounded square root (checked against the exact path in tests).
      const r = Math.sqrt(x);
      const p = r * r;
      if (p !== x || productError(r, r, p) !== 0) raiseFlags(FLAG_NX);
      return f64Bits(r);
    }
  }
  return sqrtExact(F64, a, rm);
}

/** a * b + c with one rounding. */
export function fma64(a: bigint, b: bigint, c: bigint, rm: number): bigint {
  checkRoundingMode(rm, 'fma64');
  if (rm === RM_RNE) {
    const r = fmaNearest(f64Value(a), f64Value(b), f64Value(c));
    if (r !== undefined) return r;
  }
  return fmaExact(F64, a, b, c, rm);
}

/**
 * Fused multiply-add on host doubles by rounding to odd (Boldo and Melquiond, "Emulation of FMA
 * and correctly rounded sums", IEEE TC 2008): with a*b = uh + ul and c + uh = th + tl exactly,
 * RN(th + RO(tl + ul)) = RN(a*b + c). Returns undefined where the preconditions (no underflow
 * or overflow anywhere) are not clearly met.
 */
function fmaNearest(x: number, y: number, z: number): bigint | undefined {
  const uh = x * y;
  if (!inSafeRange(x) || !inSafeRange(y) || !inSafeRange(uh) || !(z === 0 || inSafeRange(z))) return undefined;
  const ul = productError(x, y, uh);
  const th = z + uh;
  if (!inSafeRange(th)) return undefined;
  const tl = sumError(z, uh, th);
  let v = tl + ul;
  const e = sumError(tl, ul, v);
  if (e !== 0) {
    if (Math.abs(v) < MIN_NORMAL) return undefined;
    v = roundToOdd(v, e);
  }
  const r = th + v;
  if (!inSafeRange(r)) return undefined;
  // With no underflow, a lost error e implies the fused result is not representable either.
  if (e !== 0 || sumError(th, v, r) !== 0) raiseFlags(FLAG_NX);
  return f64Bits(r);
}

const MIN_NORMAL = 2 ** -1022;

/** Given v = RN(x) and e = x - v != 0, the neighbour of x with an odd significand. */
function roundToOdd(v: number, e: number): number {
  const bits = f64Bits(v);
  if ((bits & 1n) === 1n) return v;
  // Away from zero when the error has the sign of v, else towards zero.
  return f64Value((e > 0) === (v > 0) ? bits + 1n : bits - 1n);
}
