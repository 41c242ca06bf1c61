// Parameters of the binary32 and binary64 interchange formats (IEEE 754-2008 3.3, 3.4) for
// the exact bigint path, which is written once for both.

export interface FloatFormat {
  readonly name: 'f32' | 'f64';
  /** Trailing significand field width t. */
  readonly fracBits: number;
  /** Precision p = t + 1. */
  readonly precision: number;
  readonly bias: number;
  /** Exponent of the smallest normal number, 1 - bias. */
  readonly emin: number;
  /** Exponent of the largest finite number, equal to bias. */
  readonly emax: number;
  /** Exponent of the least significant bit of a subnormal: emin - t. */
  readonly subnormalLsb: number;
  readonly expFieldMax: bigint;
  readonly fracMask: bigint;
  /** The implicit leading bit 2^t. */
  readonly hidden: bigint;
  readonly signBit: bigint;
  readonly quietBit: bigint;
  /** RISC-V canonical NaN (unpriv. spec 11.3): positive, quiet, zero payload. */
  readonly canonicalNaN: bigint;
  readonly infinity: bigint;
  readonly maxFinite: bigint;
}

function makeFormat(name: 'f32' | 'f64', expBits: number, fracBits: number): FloatFormat {
  const t = BigInt(fracBits);
  const expFieldMax = (1n << BigInt(expBits)) - 1n;
  const bias = 2 ** (expBits - 1) - 1;
  const infinity = expFieldMax << t;
  return {
    name,
    fracBits,
    precision: fracBits + 1,
    bias,
    emin: 1 - bias,
    emax: bias,
    subnormalLsb: 1 - bias - fracBits,
    expFieldMax,
    fracMask: (1n << t) - 1n,
    hidden: 1n << t,
    signBit: 1n << BigInt(expBits + fracBits),
    quietBit: 1n << (t - 1n),
    canonicalNaN: infinity | (1n << (t - 1n)),
    infinity,
    maxFinite: infinity - 1n,
  };
}

export const F32: FloatFormat = makeFormat('f32', 8, 23);
export const F64: FloatFormat = makeFormat('f64', 11, 52);

/** Canonical NaN bit patterns, as the hart writes them. */
export const CANONICAL_NAN32 = 0x7fc00000;
export const CANONICAL_NAN64 = 0x7ff8000000000000n;
