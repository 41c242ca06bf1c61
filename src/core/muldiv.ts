// 64-bit multiply and divide on int32 halves (the M extension), without BigInt on the common
// paths. Results go to `result` to avoid allocating.

export const result = { lo: 0, hi: 0 };

const TWO32 = 4294967296;
// The 128-bit product as four 32-bit words, least significant first.
const product = new Uint32Array(4);

/** Unsigned 64x64 -> 128-bit product into `product`, in 16-bit limbs so every step is exact. */
function multiplyUnsigned(aLo: number, aHi: number, bLo: number, bHi: number): void {
  const a0 = aLo & 0xffff, a1 = aLo >>> 16, a2 = aHi & 0xffff, a3 = aHi >>> 16;
  const b0 = bLo & 0xffff, b1 = bLo >>> 16, b2 = bHi & 0xffff, b3 = bHi >>> 16;
  // Column sums of 16-bit partial products stay below 2^53.
  let c = a0 * b0;
  const r0 = c & 0xffff;
  c = Math.floor(c / 65536) + a0 * b1 + a1 * b0;
  const r1 = c % 65536;
  c = Math.floor(c / 65536) + a0 * b2 + a1 * b1 + a2 * b0;
  const r2 = c % 65536;
  c = Math.floor(c / 65536) + a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
  const r3 = c % 65536;
  c = Math.floor(c / 65536) + a1 * b3 + a2 * b2 + a3 * b1;
  const r4 = c % 65536;
  c = Math.floor(c / 65536) + a2 * b3 + a3 * b2;
  const r5 = c % 65536;
  c = Math.floor(c / 65536) + a3 * b3;
  const r6 = c % 65536;
  const r7 = Math.floor(c / 65536) % 65536;
  product[0] = r0 | (r1 << 16);
  product[1] = r2 | (r3 << 16);
  product[2] = r4 | (r5 << 16);
  product[3] = r6 | (r7 << 16);
}

/** MUL: the low 64 bits of the product (the same for signed and unsigned operands). */
export function mul(aLo: number, aHi: number, bLo: number, bHi: number): void {
  // The high word of aLo * bLo from 16-bit halves; every partial sum stays below 2^32.
  const a0 = aLo & 0xffff, a1 = aLo >>> 16;
  const b0 = bLo & 0xffff, b1 = bLo >>> 16;
  const t = a1 * b0 + ((a0 * b0) >>> 16);
  const u = a0 * b1 + (t & 0xffff);
  const carry = a1 * b1 + (t >>> 16) + (u >>> 16);
  result.lo = Math.imul(aLo, bLo);
  result.hi = (carry + Math.imul(aLo, bHi) + Math.imul(aHi, bLo)) | 0;
}

/** MULHU, MULH, MULHSU: the high 64 bits of the product. */
export function mulh(aLo: number, aHi: number, bLo: number, bHi: number, aSigned: boolean, bSigned: boolean): void {
  multiplyUnsigned(aLo, aHi, bLo, bHi);
  let lo = product[2]!;
  let hi = product[3]!;
  // A negative operand read as unsigned adds 2^64 * (other operand); subtract it back out.
  if (aSigned && aHi < 0) {
    const nlo = (lo - (bLo >>> 0)) >>> 0;
    hi = (hi - (bHi >>> 0) - (lo < (bLo >>> 0) ? 1 : 0)) >>> 0;
    lo = nlo;
  }
  if (bSigned && bHi < 0) {
    const nlo = (lo - (aLo >>> 0)) >>> 0;
    hi = (hi - (aHi >>> 0) - (lo < (aLo >>> 0) ? 1 : 0)) >>> 0;
    lo = nlo;
  }
  result.lo = lo | 0;
  result.hi = hi | 0;
}

function setFromBigInt(v: bigint): void {
  result.lo = Number(BigInt.asIntN(32, v));
  result.hi = Number(BigInt.asIntN(32, v >> 32n));
}

function toBigInt(lo: number, hi: number, signed: boolean): bigint {
  const v = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
  return signed ? BigInt.asIntN(64, v) : BigInt.asUintN(64, v);
}

/** Sets `result` from an integer-valued double in the signed 64-bit range. */
function setFromNumber(v: number): void {
  const hi = Math.floor(v / TWO32);
  result.lo = (v - hi * TWO32) | 0;
  result.hi = hi | 0;
}

/** DIV/DIVU/REM/REMU (M extension 7.2: x/0 = -1, x%0 = x, MIN/-1 = MIN, MIN%-1 = 0). */
export function divide(aLo: number, aHi: number, bLo: number, bHi: number, signed: boolean, remainder: boolean): void {
  if (bLo === 0 && bHi === 0) {
    if (remainder) { result.lo = aLo; result.hi = aHi; } else { result.lo = -1; result.hi = -1; }
    return;
  }
  // Fast path: both operands fit in 32 bits, where double division truncates exactly.
  if (signed ? aHi === aLo >> 31 && bHi === bLo >> 31 : aHi === 0 && bHi === 0) {
    const a = signed ? aLo : aLo >>> 0;
    const b = signed ? bLo : bLo >>> 0;
    setFromNumber(remainder ? a % b : Math.trunc(a / b));
    return;
  }
  const a = toBigInt(aLo, aHi, signed);
  const b = toBigInt(bLo, bHi, signed);
  if (signed && b === -1n && a === -(1n << 63n)) {
    if (remainder) { result.lo = 0; result.hi = 0; } else { result.lo = aLo; result.hi = aHi; }
    return;
  }
  setFromBigInt(remainder ? a % b : a / b);
}

/** DIVW/DIVUW/REMW/REMUW on the low 32 bits; results are sign-extended. */
export function divideWord(a: number, b: number, signed: boolean, remainder: boolean): number {
  if (b === 0) return remainder ? a | 0 : -1;
  if (signed) {
    if (a === (0x80000000 | 0) && b === -1) return remainder ? 0 : a;
    return (remainder ? a % b : Math.trunc(a / b)) | 0;
  }
  const ua = a >>> 0;
  const ub = b >>> 0;
  return (remainder ? ua % ub : Math.trunc(ua / ub)) | 0;
}
