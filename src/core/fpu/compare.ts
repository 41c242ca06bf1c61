// fmin/fmax, the comparisons and fclass for both formats (unpriv. spec 11.6, 11.8, 11.9).

import { CANONICAL_NAN32, CANONICAL_NAN64 } from './float-format.js';
import { f32Value, f64High, f64Value, isNaN32, isNaN64, isSignalingNaN32, isSignalingNaN64 } from './float-bits.js';
import { FLAG_NV, raiseFlags } from './rounding.js';

// Unpriv. spec 11.6 (v2.2 semantics, IEEE 754-2019 minimumNumber/maximumNumber): a NaN operand
// yields the other operand, two NaNs the canonical NaN, -0 orders below +0, sNaN raises NV.

function minMax32(a: number, b: number, wantMax: boolean): number {
  a >>>= 0;
  b >>>= 0;
  const nanA = isNaN32(a);
  const nanB = isNaN32(b);
  if (nanA || nanB) {
    if (isSignalingNaN32(a) || isSignalingNaN32(b)) raiseFlags(FLAG_NV);
    if (nanA && nanB) return CANONICAL_NAN32;
    return nanA ? b : a;
  }
  const x = f32Value(a);
  const y = f32Value(b);
  if (x === y) {
    // Equal values differ at most in the sign of zero.
    const aNegative = a >= 0x80000000;
    return aNegative !== wantMax ? a : b;
  }
  return (x < y) !== wantMax ? a : b;
}

export function min32(a: number, b: number): number {
  return minMax32(a, b, false);
}

export function max32(a: number, b: number): number {
  return minMax32(a, b, true);
}

function minMax64(a: bigint, b: bigint, wantMax: boolean): bigint {
  const x = f64Value(a);
  const y = f64Value(b);
  if (x !== x || y !== y) {
    const nanA = isNaN64(a);
    const nanB = isNaN64(b);
    if (isSignalingNaN64(a) || isSignalingNaN64(b)) raiseFlags(FLAG_NV);
    if (nanA && nanB) return CANONICAL_NAN64;
    return nanA ? b : a;
  }
  if (x === y) {
    const aNegative = a >= 0x8000000000000000n;
    return aNegative !== wantMax ? a : b;
  }
  return (x < y) !== wantMax ? a : b;
}

export function min64(a: bigint, b: bigint): bigint {
  return minMax64(a, b, false);
}

export function max64(a: bigint, b: bigint): bigint {
  return minMax64(a, b, true);
}

// Unpriv. spec 11.8: feq is a quiet comparison (NV only for sNaN); flt and fle are signaling
// (NV for any NaN). All return 0 when either operand is NaN. Results are 1 or 0, as written to rd.

export function eq32(a: number, b: number): number {
  const x = f32Value(a);
  const y = f32Value(b);
  if (x !== x || y !== y) {
    if (isSignalingNaN32(a >>> 0) || isSignalingNaN32(b >>> 0)) raiseFlags(FLAG_NV);
    return 0;
  }
  return x === y ? 1 : 0;
}

export function lt32(a: number, b: number): number {
  const x = f32Value(a);
  const y = f32Value(b);
  if (x !== x || y !== y) {
    raiseFlags(FLAG_NV);
    return 0;
  }
  return x < y ? 1 : 0;
}

export function le32(a: number, b: number): number {
  const x = f32Value(a);
  const y = f32Value(b);
  if (x !== x || y !== y) {
    raiseFlags(FLAG_NV);
    return 0;
  }
  return x <= y ? 1 : 0;
}

export function eq64(a: bigint, b: bigint): number {
  const x = f64Value(a);
  const y = f64Value(b);
  if (x !== x || y !== y) {
    if (isSignalingNaN64(a) || isSignalingNaN64(b)) raiseFlags(FLAG_NV);
    return 0;
  }
  return x === y ? 1 : 0;
}

export function lt64(a: bigint, b: bigint): number {
  const x = f64Value(a);
  const y = f64Value(b);
  if (x !== x || y !== y) {
    raiseFlags(FLAG_NV);
    return 0;
  }
  return x < y ? 1 : 0;
}

export function le64(a: bigint, b: bigint): number {
  const x = f64Value(a);
  const y = f64Value(b);
  if (x !== x || y !== y) {
    raiseFlags(FLAG_NV);
    return 0;
  }
  return x <= y ? 1 : 0;
}

// Unpriv. spec 11.9, table "Format of result of FCLASS instruction".
export const CLASS_NEG_INF = 1 << 0;
export const CLASS_NEG_NORMAL = 1 << 1;
export const CLASS_NEG_SUBNORMAL = 1 << 2;
export const CLASS_NEG_ZERO = 1 << 3;
export const CLASS_POS_ZERO = 1 << 4;
export const CLASS_POS_SUBNORMAL = 1 << 5;
export const CLASS_POS_NORMAL = 1 << 6;
export const CLASS_POS_INF = 1 << 7;
export const CLASS_SIGNALING_NAN = 1 << 8;
export const CLASS_QUIET_NAN = 1 << 9;

/** The fclass mask from sign, whether the exponent field is all zeros / all ones, the fraction's top bit and whether it is zero. */
function classMask(negative: boolean, expZero: boolean, expOnes: boolean, fracTop: boolean, fracZero: boolean): number {
  if (expOnes) {
    if (fracZero) return negative ? CLASS_NEG_INF : CLASS_POS_INF;
    return fracTop ? CLASS_QUIET_NAN : CLASS_SIGNALING_NAN;
  }
  if (expZero) {
    if (fracZero) return negative ? CLASS_NEG_ZERO : CLASS_POS_ZERO;
    return negative ? CLASS_NEG_SUBNORMAL : CLASS_POS_SUBNORMAL;
  }
  return negative ? CLASS_NEG_NORMAL : CLASS_POS_NORMAL;
}

export function classify32(a: number): number {
  const exp = (a >>> 23) & 0xff;
  return classMask((a & 0x80000000) !== 0, exp === 0, exp === 0xff, (a & 0x00400000) !== 0, (a & 0x007fffff) === 0);
}

export function classify64(a: bigint): number {
  const hi = f64High(a);
  const exp = (hi >>> 20) & 0x7ff;
  const fracZero = (hi & 0xfffff) === 0 && (a & 0xffffffffn) === 0n;
  return classMask((hi & 0x80000000) !== 0, exp === 0, exp === 0x7ff, (hi & 0x80000) !== 0, fracZero);
}
