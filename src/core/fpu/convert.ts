// fcvt between the formats and between floats and integers (unpriv. spec 11.7, 12.5).
// Float-to-integer rounding is exact on host doubles in every mode; other conversions use the
// host where its round-to-nearest-even result is exact or singly rounded, else the exact path.

import { CANONICAL_NAN64, F32, F64 } from './float-format.js';
import { INT64, UINT64, convertFormatExact, intToFloatExact } from './exact-conversion.js';
import { f32Bits, f32Value, f64Bits, f64Value, isSignalingNaN32 } from './float-bits.js';
import { FLAG_NV, FLAG_NX, RM_RDN, RM_RNE, RM_RTZ, RM_RUP, checkRoundingMode, raiseFlags } from './rounding.js';

/** Rounds a finite double to an integral double; exact for every input. */
function roundToIntegral(x: number, rm: number): number {
  switch (rm) {
    case RM_RTZ:
      return Math.trunc(x);
    case RM_RDN:
      return Math.floor(x);
    case RM_RUP:
      return Math.ceil(x);
    case RM_RNE: {
      const f = Math.floor(x);
      const d = x - f; // exact: the fraction bits of x
      if (d !== 0.5) return d < 0.5 ? f : f + 1;
      return f % 2 === 0 ? f : f + 1;
    }
    default: {
      // RMM: ties away from zero.
      const m = Math.abs(x);
      const f = Math.floor(m);
      const r = m - f >= 0.5 ? f + 1 : f;
      return x < 0 ? -r : r;
    }
  }
}

/**
 * The integral value of x rounded per rm, saturated to [min, max] per unpriv. spec 11.7
 * (table "Domains of float-to-integer conversions"): NaN and +inf or too large give max, -inf
 * or too small give min, all with NV; in-range inexact results raise NX. limit is max + 1.
 */
function toIntegral(x: number, rm: number, min: number, limit: number, op: string): number {
  checkRoundingMode(rm, op);
  if (x !== x) {
    raiseFlags(FLAG_NV);
    return limit;
  }
  const r = Number.isFinite(x) ? roundToIntegral(x, rm) : x;
  if (r >= limit) {
    raiseFlags(FLAG_NV);
    return limit;
  }
  if (r < min) {
    raiseFlags(FLAG_NV);
    return min;
  }
  if (r !== x) raiseFlags(FLAG_NX);
  return r;
}

const TWO_31 = 2 ** 31;
const TWO_32 = 2 ** 32;
const TWO_63 = 2 ** 63;
const TWO_64 = 2 ** 64;

function toI32(x: number, rm: number, op: string): number {
  const r = toIntegral(x, rm, -TWO_31, TWO_31, op);
  return r === TWO_31 ? 0x7fffffff : r | 0;
}

function toU32(x: number, rm: number, op: string): number {
  const r = toIntegral(x, rm, 0, TWO_32, op);
  return r === TWO_32 ? 0xffffffff : r >>> 0;
}

function toI64(x: number, rm: number, op: string): bigint {
  const r = toIntegral(x, rm, -TWO_63, TWO_63, op);
  return r === TWO_63 ? INT64.max : BigInt.asUintN(64, BigInt(r));
}

function toU64(x: number, rm: number, op: string): bigint {
  const r = toIntegral(x, rm, 0, TWO_64, op);
  return r === TWO_64 ? UINT64.max : BigInt(r);
}

/** fcvt.w.s: a signed int32. */
export function f32ToI32(a: number, rm: number): number {
  return toI32(f32Value(a), rm, 'f32ToI32');
}

/** fcvt.wu.s: an unsigned 32-bit value (the hart sign-extends bit 31 on RV64). */
export function f32ToU32(a: number, rm: number): number {
  return toU32(f32Value(a), rm, 'f32ToU32');
}

/** fcvt.l.s: two's complement as an unsigned 64-bit bigint. */
export function f32ToI64(a: number, rm: number): bigint {
  return toI64(f32Value(a), rm, 'f32ToI64');
}

/** fcvt.lu.s */
export function f32ToU64(a: number, rm: number): bigint {
  return toU64(f32Value(a), rm, 'f32ToU64');
}

export function f64ToI32(a: bigint, rm: number): number {
  return toI32(f64Value(a), rm, 'f64ToI32');
}

export function f64ToU32(a: bigint, rm: number): number {
  return toU32(f64Value(a), rm, 'f64ToU32');
}

export function f64ToI64(a: bigint, rm: number): bigint {
  return toI64(f64Value(a), rm, 'f64ToI64');
}

export function f64ToU64(a: bigint, rm: number): bigint {
  return toU64(f64Value(a), rm, 'f64ToU64');
}

/** An integer |n| <= 2^53 to binary32. */
function smallIntToF32(n: number, rm: number): number {
  if (Math.abs(n) <= 0x1000000) return f32Bits(n); // exact
  if (rm === RM_RNE) {
    const r = Math.fround(n);
    if (r !== n) raiseFlags(FLAG_NX);
    return f32Bits(r);
  }
  return Number(intToFloatExact(F32, BigInt(n), rm));
}

/** fcvt.s.w: v is read as int32. */
export function i32ToF32(v: number, rm: number): number {
  checkRoundingMode(rm, 'i32ToF32');
  return smallIntToF32(v | 0, rm);
}

/** fcvt.s.wu: v is read as uint32. */
export function u32ToF32(v: number, rm: number): number {
  checkRoundingMode(rm, 'u32ToF32');
  return smallIntToF32(v >>> 0, rm);
}

const TWO_53 = 1n << 53n;

/** fcvt.s.l: v is read as int64 (any two's complement bigint). */
export function i64ToF32(v: bigint, rm: number): number {
  checkRoundingMode(rm, 'i64ToF32');
  const s = BigInt.asIntN(64, v);
  if (s <= TWO_53 && s >= -TWO_53) return smallIntToF32(Number(s), rm);
  return Number(intToFloatExact(F32, s, rm));
}

/** fcvt.s.lu: v is read as uint64. */
export function u64ToF32(v: bigint, rm: number): number {
  checkRoundingMode(rm, 'u64ToF32');
  const u = BigInt.asUintN(64, v);
  if (u <= TWO_53) return smallIntToF32(Number(u), rm);
  return Number(intToFloatExact(F32, u, rm));
}

/** fcvt.d.w: always exact; rm is validated only. */
export function i32ToF64(v: number, rm: number): bigint {
  checkRoundingMode(rm, 'i32ToF64');
  return f64Bits(v | 0);
}

export function u32ToF64(v: number, rm: number): bigint {
  checkRoundingMode(rm, 'u32ToF64');
  return f64Bits(v >>> 0);
}

/** A 64-bit integer (signed bigint) to binary64: Number() rounds to nearest even (ECMA-262 6.1.6.1). */
function bigIntToF64(s: bigint, rm: number): bigint {
  if (s <= TWO_53 && s >= -TWO_53) return f64Bits(Number(s));
  if (rm === RM_RNE) {
    const r = Number(s);
    if (BigInt(r) !== s) raiseFlags(FLAG_NX);
    return f64Bits(r);
  }
  return intToFloatExact(F64, s, rm);
}

export function i64ToF64(v: bigint, rm: number): bigint {
  checkRoundingMode(rm, 'i64ToF64');
  return bigIntToF64(BigInt.asIntN(64, v), rm);
}

export function u64ToF64(v: bigint, rm: number): bigint {
  checkRoundingMode(rm, 'u64ToF64');
  return bigIntToF64(BigInt.asUintN(64, v), rm);
}

/** fcvt.d.s: exact; NaNs become the canonical NaN and sNaN raises NV (unpriv. spec 12.5). */
export function f32ToF64(a: number): bigint {
  const x = f32Value(a);
  if (x === x) return f64Bits(x);
  if (isSignalingNaN32(a >>> 0)) raiseFlags(FLAG_NV);
  return CANONICAL_NAN64;
}

/** fcvt.s.d */
export function f64ToF32(a: bigint, rm: number): number {
  checkRoundingMode(rm, 'f64ToF32');
  const x = f64Value(a);
  const r = Math.fround(x);
  if (r === x) return f32Bits(r); // exact, including zeros, subnormals and infinities
  if (rm === RM_RNE && Math.abs(x) > 2 ** -126 && Math.abs(r) < Infinity) {
    raiseFlags(FLAG_NX);
    return f32Bits(r);
  }
  return Number(convertFormatExact(F64, F32, a, rm));
}
