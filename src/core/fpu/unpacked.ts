// Exact representation of a floating-point datum as sign * sig * 2^exp, and the single
// round-and-pack routine that every exact operation ends in (IEEE 754-2008 4.3, 7.4, 7.5).

import type { FloatFormat } from './float-format.js';
import {
  FLAG_NX,
  FLAG_OF,
  FLAG_UF,
  RM_RDN,
  RM_RMM,
  RM_RNE,
  RM_RTZ,
  RM_RUP,
  raiseFlags,
} from './rounding.js';

export const CLASS_ZERO = 0;
export const CLASS_FINITE = 1;
export const CLASS_INF = 2;
export const CLASS_QNAN = 3;
export const CLASS_SNAN = 4;

/** A decoded datum; for CLASS_FINITE its value is (-1)^sign * sig * 2^exp with sig > 0. */
export interface Unpacked {
  sign: number;
  cls: number;
  sig: bigint;
  exp: number;
}

export function unpack(fmt: FloatFormat, bits: bigint): Unpacked {
  const sign = (bits & fmt.signBit) === 0n ? 0 : 1;
  const field = (bits >> BigInt(fmt.fracBits)) & fmt.expFieldMax;
  const frac = bits & fmt.fracMask;
  if (field === fmt.expFieldMax) {
    if (frac === 0n) return { sign, cls: CLASS_INF, sig: 0n, exp: 0 };
    return { sign, cls: (frac & fmt.quietBit) !== 0n ? CLASS_QNAN : CLASS_SNAN, sig: 0n, exp: 0 };
  }
  if (field === 0n) {
    if (frac === 0n) return { sign, cls: CLASS_ZERO, sig: 0n, exp: 0 };
    return { sign, cls: CLASS_FINITE, sig: frac, exp: fmt.subnormalLsb };
  }
  return { sign, cls: CLASS_FINITE, sig: frac | fmt.hidden, exp: Number(field) - fmt.bias - fmt.fracBits };
}

export function isNaNClass(cls: number): boolean {
  return cls === CLASS_QNAN || cls === CLASS_SNAN;
}

export function packZero(fmt: FloatFormat, sign: number): bigint {
  return sign === 0 ? 0n : fmt.signBit;
}

export function packInfinity(fmt: FloatFormat, sign: number): bigint {
  return sign === 0 ? fmt.infinity : fmt.signBit | fmt.infinity;
}

/** Number of significant bits of x > 0. */
export function bitLength(x: bigint): number {
  if (x < 0x100000000n) return 32 - Math.clz32(Number(x));
  const hex = x.toString(16);
  return (hex.length - 1) * 4 + 32 - Math.clz32(parseInt(hex[0]!, 16));
}

/** Whether discarding rem (0 < rem < 2*half) from the magnitude q must round q up by one. */
function roundsUp(rm: number, sign: number, q: bigint, rem: bigint, half: bigint): boolean {
  switch (rm) {
    case RM_RNE:
      return rem > half || (rem === half && (q & 1n) === 1n);
    case RM_RTZ:
      return false;
    case RM_RDN:
      return sign === 1;
    case RM_RUP:
      return sign === 0;
    case RM_RMM:
      return rem >= half;
    default:
      throw new RangeError(`rounding mode ${rm}`);
  }
}

/** The result of an overflow in each rounding mode (IEEE 754-2008 7.4). */
function overflowResult(fmt: FloatFormat, sign: number, rm: number): bigint {
  const toInfinity =
    rm === RM_RNE || rm === RM_RMM || (rm === RM_RUP && sign === 0) || (rm === RM_RDN && sign === 1);
  const magnitude = toInfinity ? fmt.infinity : fmt.maxFinite;
  return sign === 0 ? magnitude : fmt.signBit | magnitude;
}

/**
 * Rounds (-1)^sign * sig * 2^exp to the format and packs it, raising NX/UF/OF. sig must be
 * positive. An inexact operation passes its result with a sticky bit ORed into bit 0 and at
 * least p + 2 significant bits, so the sticky bit lies below the rounding position.
 */
export function roundPack(fmt: FloatFormat, sign: number, exp: number, sig: bigint, rm: number): bigint {
  const p = fmt.precision;
  const msb = exp + bitLength(sig) - 1;
  let lsb = Math.max(msb - (p - 1), fmt.subnormalLsb);
  const shift = lsb - exp;
  let q: bigint;
  let inexact = false;
  if (shift <= 0) {
    q = sig << BigInt(-shift);
  } else {
    const sh = BigInt(shift);
    q = sig >> sh;
    const rem = sig & ((1n << sh) - 1n);
    if (rem !== 0n) {
      inexact = true;
      if (roundsUp(rm, sign, q, rem, 1n << (sh - 1n))) q += 1n;
      // IEEE 754-2008 7.5 and unpriv. spec 11.2: tininess is detected after rounding, i.e. the
      // result rounded to p bits with an unbounded exponent lies strictly below 2^emin.
      if (msb < fmt.emin && !roundsToMinNormal(fmt, sign, exp, sig, msb, rm)) raiseFlags(FLAG_UF);
    }
  }
  if (q === fmt.hidden << 1n) {
    q >>= 1n;
    lsb += 1;
  }
  let bits: bigint;
  if (q >= fmt.hidden) {
    const top = lsb + p - 1;
    if (top > fmt.emax) {
      raiseFlags(FLAG_OF | FLAG_NX);
      return overflowResult(fmt, sign, rm);
    }
    bits = (BigInt(top + fmt.bias) << BigInt(fmt.fracBits)) | (q & fmt.fracMask);
  } else {
    bits = q;
  }
  if (inexact) raiseFlags(FLAG_NX);
  return sign === 0 ? bits : fmt.signBit | bits;
}

/** For a value just below 2^emin: does rounding it to p bits, ignoring the exponent range, carry to 2^emin? */
function roundsToMinNormal(fmt: FloatFormat, sign: number, exp: number, sig: bigint, msb: number, rm: number): boolean {
  if (msb !== fmt.emin - 1) return false;
  const shift = msb - (fmt.precision - 1) - exp;
  if (shift <= 0) return false;
  const sh = BigInt(shift);
  const q = sig >> sh;
  const rem = sig & ((1n << sh) - 1n);
  return rem !== 0n && roundsUp(rm, sign, q, rem, 1n << (sh - 1n)) && q + 1n === fmt.hidden << 1n;
}
