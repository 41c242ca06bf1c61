// Reinterpreting bit patterns as host numbers and back through one shared 8-byte buffer.
// Host arithmetic is IEEE 754 binary64 with round-to-nearest-even (ECMA-262 6.1.6.1), which
// the fast paths build on. Reading a NaN this way may lose its payload: callers test the bits.

const buffer = new ArrayBuffer(8);
const f64 = new Float64Array(buffer);
const u64 = new BigUint64Array(buffer);
const f32 = new Float32Array(buffer, 0, 1);
const u32 = new Uint32Array(buffer);

/** The value of a binary32 bit pattern (exact in a double). */
export function f32Value(bits: number): number {
  u32[0] = bits;
  return f32[0]!;
}

/** The binary32 bit pattern of Math.fround(x). */
export function f32Bits(x: number): number {
  f32[0] = x;
  return u32[0]!;
}

/** The value of a binary64 bit pattern. */
export function f64Value(bits: bigint): number {
  u64[0] = bits;
  return f64[0]!;
}

/** The binary64 bit pattern of x. */
export function f64Bits(x: number): bigint {
  f64[0] = x;
  return u64[0]!;
}

/** The upper 32 bits of a binary64 bit pattern: sign, exponent and the top of the fraction. */
export function f64High(bits: bigint): number {
  u64[0] = bits;
  return u32[1]!;
}

/** The lower 32 bits of the binary64 pattern of x. */
export function f64LowWordOf(x: number): number {
  f64[0] = x;
  return u32[0]!;
}

/** Whether a binary32 pattern is a NaN, and whether it is signaling. */
export function isNaN32(bits: number): boolean {
  return (bits & 0x7f800000) === 0x7f800000 && (bits & 0x007fffff) !== 0;
}

export function isSignalingNaN32(bits: number): boolean {
  return isNaN32(bits) && (bits & 0x00400000) === 0;
}

export function isNaN64(bits: bigint): boolean {
  return (bits & 0x7ff0000000000000n) === 0x7ff0000000000000n && (bits & 0xfffffffffffffn) !== 0n;
}

export function isSignalingNaN64(bits: bigint): boolean {
  return isNaN64(bits) && (bits & 0x8000000000000n) === 0n;
}
