// Correctly rounded add, multiply, divide, square root and fused multiply-add on bigint bit
// patterns of either format: exact integer arithmetic, then one roundPack. This is the
// reference path; the per-format modules put faster paths in front of it.

import type { FloatFormat } from './float-format.js';
import { FLAG_DZ, FLAG_NV, RM_RDN, raiseFlags } from './rounding.js';
import {
  CLASS_INF,
  CLASS_SNAN,
  CLASS_ZERO,
  bitLength,
  isNaNClass,
  packInfinity,
  packZero,
  roundPack,
  unpack,
} from './unpacked.js';
import type { Unpacked } from './unpacked.js';

/** NaN operands give the canonical NaN (unpriv. spec 11.3); signaling ones also raise NV. */
function nanResult(fmt: FloatFormat, ...ops: Unpacked[]): bigint {
  for (const op of ops) if (op.cls === CLASS_SNAN) raiseFlags(FLAG_NV);
  return fmt.canonicalNaN;
}

function invalid(fmt: FloatFormat): bigint {
  raiseFlags(FLAG_NV);
  return fmt.canonicalNaN;
}

/** An exact zero sum: +0 unless both addends are -0, or -0 when rounding down (IEEE 754-2008 6.3). */
function zeroSum(fmt: FloatFormat, signA: number, signB: number, rm: number): bigint {
  if (signA === signB) return packZero(fmt, signA);
  return packZero(fmt, rm === RM_RDN ? 1 : 0);
}

/**
 * Rounds (-1)^sa*ma*2^ea + (-1)^sb*mb*2^eb (ma, mb > 0). An addend far below the other one's
 * rounding positions is replaced by a tiny value of the same sign, which rounds identically
 * and keeps the alignment shift small.
 */
function addFinite(
  fmt: FloatFormat,
  sa: number, ma: bigint, ea: number,
  sb: number, mb: bigint, eb: number,
  rm: number,
): bigint {
  const msbA = ea + bitLength(ma) - 1;
  const msbB = eb + bitLength(mb) - 1;
  if (msbA >= msbB) {
    const floor = Math.min(ea, msbA - fmt.precision);
    if (msbB <= floor - 2) { mb = 1n; eb = floor - 2; }
  } else {
    const floor = Math.min(eb, msbB - fmt.precision);
    if (msbA <= floor - 2) { ma = 1n; ea = floor - 2; }
  }
  const e = Math.min(ea, eb);
  const a = ma << BigInt(ea - e);
  const b = mb << BigInt(eb - e);
  let sum = (sa === 0 ? a : -a) + (sb === 0 ? b : -b);
  if (sum === 0n) return zeroSum(fmt, sa, sb, rm);
  let sign = 0;
  if (sum < 0n) { sign = 1; sum = -sum; }
  return roundPack(fmt, sign, e, sum, rm);
}

export function addExact(fmt: FloatFormat, a: bigint, b: bigint, rm: number): bigint {
  const x = unpack(fmt, a);
  const y = unpack(fmt, b);
  if (isNaNClass(x.cls) || isNaNClass(y.cls)) return nanResult(fmt, x, y);
  if (x.cls === CLASS_INF) {
    if (y.cls === CLASS_INF && x.sign !== y.sign) return invalid(fmt);
    return packInfinity(fmt, x.sign);
  }
  if (y.cls === CLASS_INF) return packInfinity(fmt, y.sign);
  if (x.cls === CLASS_ZERO) return y.cls === CLASS_ZERO ? zeroSum(fmt, x.sign, y.sign, rm) : b;
  if (y.cls === CLASS_ZERO) return a;
  return addFinite(fmt, x.sign, x.sig, x.exp, y.sign, y.sig, y.exp, rm);
}

export function subExact(fmt: FloatFormat, a: bigint, b: bigint, rm: number): bigint {
  return addExact(fmt, a, b ^ fmt.signBit, rm);
}

export function mulExact(fmt: FloatFormat, a: bigint, b: bigint, rm: number): bigint {
  const x = unpack(fmt, a);
  const y = unpack(fmt, b);
  if (isNaNClass(x.cls) || isNaNClass(y.cls)) return nanResult(fmt, x, y);
  const sign = x.sign ^ y.sign;
  if (x.cls === CLASS_INF || y.cls === CLASS_INF) {
    if (x.cls === CLASS_ZERO || y.cls === CLASS_ZERO) return invalid(fmt);
    return packInfinity(fmt, sign);
  }
  if (x.cls === CLASS_ZERO || y.cls === CLASS_ZERO) return packZero(fmt, sign);
  return roundPack(fmt, sign, x.exp + y.exp, x.sig * y.sig, rm);
}

export function divExact(fmt: FloatFormat, a: bigint, b: bigint, rm: number): bigint {
  const x = unpack(fmt, a);
  const y = unpack(fmt, b);
  if (isNaNClass(x.cls) || isNaNClass(y.cls)) return nanResult(fmt, x, y);
  const sign = x.sign ^ y.sign;
  if (x.cls === CLASS_INF) return y.cls === CLASS_INF ? invalid(fmt) : packInfinity(fmt, sign);
  if (y.cls === CLASS_INF) return packZero(fmt, sign);
  if (y.cls === CLASS_ZERO) {
    if (x.cls === CLASS_ZERO) return invalid(fmt);
    raiseFlags(FLAG_DZ);
    return packInfinity(fmt, sign);
  }
  if (x.cls === CLASS_ZERO) return packZero(fmt, sign);
  // Scale the dividend so the quotient has at least p + 2 bits; the remainder becomes sticky.
  const k = Math.max(0, fmt.precision + 2 + bitLength(y.sig) - bitLength(x.sig));
  const n = x.sig << BigInt(k);
  const q = n / y.sig;
  const sticky = n - q * y.sig === 0n ? 0n : 1n;
  return roundPack(fmt, sign, x.exp - y.exp - k - 1, (q << 1n) | sticky, rm);
}

/** floor(sqrt(n)) for n > 0 by Newton's iteration from an upper bound. */
export function isqrt(n: bigint): bigint {
  let x = 1n << BigInt((bitLength(n) + 1) >> 1);
  for (;;) {
    const next = (x + n / x) >> 1n;
    if (next >= x) return x;
    x = next;
  }
}

export function sqrtExact(fmt: FloatFormat, a: bigint, rm: number): bigint {
  const x = unpack(fmt, a);
  if (isNaNClass(x.cls)) return nanResult(fmt, x);
  if (x.cls === CLASS_ZERO) return a; // sqrt(-0) = -0 (IEEE 754-2008 5.4.1)
  if (x.sign === 1) return invalid(fmt);
  if (x.cls === CLASS_INF) return a;
  let sig = x.sig;
  let exp = x.exp;
  if ((exp & 1) !== 0) { sig <<= 1n; exp -= 1; }
  // Scale by an even power of two so the root has at least p + 2 bits.
  const k = Math.max(0, (2 * (fmt.precision + 2) - bitLength(sig) + 1) >> 1);
  const n = sig << BigInt(2 * k);
  const r = isqrt(n);
  const sticky = n - r * r === 0n ? 0n : 1n;
  return roundPack(fmt, 0, (exp >> 1) - k - 1, (r << 1n) | sticky, rm);
}

/** a*b + c with a single rounding (IEEE 754-2008 5.4.1 fusedMultiplyAdd). */
export function fmaExact(fmt: FloatFormat, a: bigint, b: bigint, c: bigint, rm: number): bigint {
  const x = unpack(fmt, a);
  const y = unpack(fmt, b);
  const z = unpack(fmt, c);
  // Unpriv. spec 11.6: inf * 0 raises NV even when the addend is a quiet NaN.
  const infTimesZero =
    (x.cls === CLASS_INF && y.cls === CLASS_ZERO) || (x.cls === CLASS_ZERO && y.cls === CLASS_INF);
  if (isNaNClass(x.cls) || isNaNClass(y.cls) || isNaNClass(z.cls)) {
    if (infTimesZero) raiseFlags(FLAG_NV);
    return nanResult(fmt, x, y, z);
  }
  if (infTimesZero) return invalid(fmt);
  const sp = x.sign ^ y.sign;
  if (x.cls === CLASS_INF || y.cls === CLASS_INF) {
    if (z.cls === CLASS_INF && z.sign !== sp) return invalid(fmt);
    return packInfinity(fmt, sp);
  }
  if (z.cls === CLASS_INF) return c;
  if (x.cls === CLASS_ZERO || y.cls === CLASS_ZERO) {
    return z.cls === CLASS_ZERO ? zeroSum(fmt, sp, z.sign, rm) : c;
  }
  const product = x.sig * y.sig;
  const pexp = x.exp + y.exp;
  if (z.cls === CLASS_ZERO) return roundPack(fmt, sp, pexp, product, rm);
  return addFinite(fmt, sp, product, pexp, z.sign, z.sig, z.exp, rm);
}
