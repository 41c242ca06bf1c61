// binary32 arithmetic on uint32 bit patterns. Round-to-nearest-even uses host doubles, which
// hold every binary32 operand exactly and round twice harmlessly for + - * / sqrt (53 >= 2*24+2);
// other modes, subnormal or special results take the exact path.

import { F32 } from './float-format.js';
import { addExact, divExact, fmaExact, mulExact, sqrtExact } from './exact-arithmetic.js';
import { f32Bits, f32Value, f64LowWordOf } from './float-bits.js';
import { sumError } from './error-free.js';
import { FLAG_NX, RM_RNE, checkRoundingMode, raiseFlags } from './rounding.js';

const MIN_NORMAL = 2 ** -126;

/**
 * Whether a result rounded to r from exact, or from a double nearest to exact, cannot underflow
 * or overflow: tininess depends on the value before rounding to binary32.
 */
function isNormalRange(exact: number, r: number): boolean {
  return Math.abs(exact) > MIN_NORMAL && Math.abs(r) < Infinity;
}

function big(a: number): bigint {
  return BigInt(a >>> 0);
}

export function add32(a: number, b: number, rm: number): number {
  checkRoundingMode(rm, 'add32');
  if (rm === RM_RNE) {
    const x = f32Value(a);
    const y = f32Value(b);
    const s = x + y;
    const r = Math.fround(s);
    if (r === s && sumError(x, y, s) === 0) return f32Bits(r); // exact, including zeros and subnormals
    if (isNormalRange(s, r)) {
      raiseFlags(FLAG_NX);
      return f32Bits(r);
    }
  }
  return Number(addExact(F32, big(a), big(b), rm));
}

export function sub32(a: number, b: number, rm: number): number {
  return add32(a, (b ^ 0x80000000) >>> 0, rm);
}

export function mul32(a: number, b: number, rm: number): number {
  checkRoundingMode(rm, 'mul32');
  if (rm === RM_RNE) {
    const p = f32Value(a) * f32Value(b); // exact: 48-bit product, no double overflow or underflow
    const r = Math.fround(p);
    if (r === p) return f32Bits(r);
    if (isNormalRange(p, r)) {
      raiseFlags(FLAG_NX);
      return f32Bits(r);
    }
  }
  return Number(mulExact(F32, big(a), big(b), rm));
}

export function div32(a: number, b: number, rm: number): number {
  checkRoundingMode(rm, 'div32');
  if (rm === RM_RNE) {
    const x = f32Value(a);
    const y = f32Value(b);
    if (y !== 0 && Number.isFinite(x) && Number.isFinite(y)) {
      const q = x / y;
      if (q === 0) return f32Bits(q); // 0 / y
      const r = Math.fround(q);
      if (isNormalRange(q, r)) {
        if (r * y !== x) raiseFlags(FLAG_NX); // r * y is exact: 24 x 24 bits
        return f32Bits(r);
      }
    }
  }
  return Number(divExact(F32, big(a), big(b), rm));
}

export function sqrt32(a: number, rm: number): number {
  checkRoundingMode(rm, 'sqrt32');
  if (rm === RM_RNE) {
    const x = f32Value(a);
    if (x > 0 && x < Infinity) {
      const r = Math.fround(Math.sqrt(x));
      if (r * r !== x) raiseFlags(FLAG_NX);
      return f32Bits(r);
    }
  }
  return Number(sqrtExact(F32, big(a), rm));
}

/** a * b + c with one rounding. */
export function fma32(a: number, b: number, c: number, rm: number): number {
  checkRoundingMode(rm, 'fma32');
  if (rm === RM_RNE) {
    const x = f32Value(a);
    const y = f32Value(b);
    const z = f32Value(c);
    if (Number.isFinite(x) && Number.isFinite(y) && Number.isFinite(z)) {
      const p = x * y; // exact
      const s = p + z;
      const e = sumError(p, z, s);
      const r = Math.fround(s);
      if (e === 0 && r === s) return f32Bits(r);
      // s is the double nearest to the exact sum; rounding it again is only wrong when it is
      // a binary32 midpoint (low 29 fraction bits 1000...0) and the discarded error decides the tie.
      if (isNormalRange(s, r) &&
          !(e !== 0 && (f64LowWordOf(s) & 0x1fffffff) === 0x10000000)) {
        raiseFlags(FLAG_NX);
        return f32Bits(r);
      }
    }
  }
  return Number(fmaExact(F32, big(a), big(b), big(c), rm));
}
