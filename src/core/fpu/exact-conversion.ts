// Conversions on the exact bigint path: between the formats, from floats to integers with
// the RISC-V saturation rules, and from integers to floats.

import type { FloatFormat } from './float-format.js';
import { FLAG_NV, FLAG_NX, RM_RDN, RM_RMM, RM_RNE, RM_RTZ, RM_RUP, raiseFlags } from './rounding.js';
import { CLASS_INF, CLASS_SNAN, CLASS_ZERO, isNaNClass, packInfinity, packZero, roundPack, unpack } from './unpacked.js';

/** Converts between formats; NaNs become the canonical NaN, sNaN raises NV (unpriv. spec 12.5). */
export function convertFormatExact(from: FloatFormat, to: FloatFormat, bits: bigint, rm: number): bigint {
  const x = unpack(from, bits);
  if (isNaNClass(x.cls)) {
    if (x.cls === CLASS_SNAN) raiseFlags(FLAG_NV);
    return to.canonicalNaN;
  }
  if (x.cls === CLASS_INF) return packInfinity(to, x.sign);
  if (x.cls === CLASS_ZERO) return packZero(to, x.sign);
  return roundPack(to, x.sign, x.exp, x.sig, rm);
}

/** Integer destination ranges: bit width and signedness. */
export interface IntRange {
  readonly min: bigint;
  readonly max: bigint;
}

export const INT32: IntRange = { min: -(1n << 31n), max: (1n << 31n) - 1n };
export const UINT32: IntRange = { min: 0n, max: (1n << 32n) - 1n };
export const INT64: IntRange = { min: -(1n << 63n), max: (1n << 63n) - 1n };
export const UINT64: IntRange = { min: 0n, max: (1n << 64n) - 1n };

/** Rounds a non-negative magnitude sig * 2^-shift (shift > 0) to an integer. */
function roundMagnitude(sig: bigint, shift: number, sign: number, rm: number): { q: bigint; inexact: boolean } {
  const sh = BigInt(shift);
  let q = sig >> sh;
  const rem = sig & ((1n << sh) - 1n);
  if (rem === 0n) return { q, inexact: false };
  const half = 1n << (sh - 1n);
  let up: boolean;
  switch (rm) {
    case RM_RNE: up = rem > half || (rem === half && (q & 1n) === 1n); break;
    case RM_RTZ: up = false; break;
    case RM_RDN: up = sign === 1; break;
    case RM_RUP: up = sign === 0; break;
    case RM_RMM: up = rem >= half; break;
    default: throw new RangeError(`rounding mode ${rm}`);
  }
  if (up) q += 1n;
  return { q, inexact: true };
}

/**
 * Converts to an integer of the given range, returned as a signed bigint. Unpriv. spec 11.7,
 * table "Domains of float-to-integer conversions": NaN and values rounding above the range
 * give max, values rounding below it give min, both with NV; in-range inexact results NX.
 */
export function floatToIntExact(fmt: FloatFormat, bits: bigint, range: IntRange, rm: number): bigint {
  const x = unpack(fmt, bits);
  if (isNaNClass(x.cls)) {
    raiseFlags(FLAG_NV);
    return range.max;
  }
  if (x.cls === CLASS_INF) {
    raiseFlags(FLAG_NV);
    return x.sign === 0 ? range.max : range.min;
  }
  if (x.cls === CLASS_ZERO) return 0n;
  let magnitude: bigint;
  let inexact = false;
  if (x.exp >= 0) {
    // At least 2^exp; anything beyond 2^70 saturates, so cap the shift.
    magnitude = x.sig << BigInt(Math.min(x.exp, 70));
  } else {
    const r = roundMagnitude(x.sig, -x.exp, x.sign, rm);
    magnitude = r.q;
    inexact = r.inexact;
  }
  const value = x.sign === 0 ? magnitude : -magnitude;
  if (value > range.max || value < range.min) {
    raiseFlags(FLAG_NV);
    return x.sign === 0 ? range.max : range.min;
  }
  if (inexact) raiseFlags(FLAG_NX);
  return value;
}

/** Converts an integer (any bigint) to the format. */
export function intToFloatExact(fmt: FloatFormat, value: bigint, rm: number): bigint {
  if (value === 0n) return 0n;
  if (value < 0n) return roundPack(fmt, 1, 0, -value, rm);
  return roundPack(fmt, 0, 0, value, rm);
}
