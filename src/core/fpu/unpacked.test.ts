import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F32, F64 } from './float-format.js';
import { FLAG_NX, FLAG_OF, FLAG_UF, RM_RDN, RM_RMM, RM_RNE, RM_RTZ, RM_RUP, takeFlags } from './rounding.js';
import { CLASS_FINITE, CLASS_INF, CLASS_QNAN, CLASS_SNAN, CLASS_ZERO, bitLength, roundPack, unpack } from './unpacked.js';

function pack32(sign: number, exp: number, sig: bigint, rm: number): [number, number] {
  takeFlags();
  const bits = Number(roundPack(F32, sign, exp, sig, rm));
  return [bits, takeFlags()];
}

test('bitLength counts significant bits', () => {
  assert.deepEqual([1n, 2n, 3n, 0xffffffffn, 0x100000000n, 1n << 200n].map(bitLength), [1, 2, 2, 32, 33, 201]);
});

test('unpack classifies and decodes both formats', () => {
  assert.deepEqual(unpack(F32, 0x3f800000n), { sign: 0, cls: CLASS_FINITE, sig: 0x800000n, exp: -23 });
  assert.deepEqual(unpack(F32, 0x80000001n), { sign: 1, cls: CLASS_FINITE, sig: 1n, exp: -149 });
  assert.equal(unpack(F32, 0x80000000n).cls, CLASS_ZERO);
  assert.equal(unpack(F64, 0xfff0000000000000n).cls, CLASS_INF);
  assert.equal(unpack(F64, 0x7ff8000000000000n).cls, CLASS_QNAN);
  assert.equal(unpack(F64, 0x7ff0000000000001n).cls, CLASS_SNAN);
  assert.deepEqual(unpack(F64, 0x0010000000000000n), { sign: 0, cls: CLASS_FINITE, sig: 1n << 52n, exp: -1074 });
});

test('round to nearest: ties to even versus ties to max magnitude', () => {
  // 1 + 2^-24 is halfway between 1 and 1 + 2^-23.
  const tie = (1n << 24n) + 1n;
  assert.deepEqual(pack32(0, -24, tie, RM_RNE), [0x3f800000, FLAG_NX]);
  assert.deepEqual(pack32(0, -24, tie, RM_RMM), [0x3f800001, FLAG_NX]);
  assert.deepEqual(pack32(1, -24, tie, RM_RMM), [0xbf800001, FLAG_NX]);
  // 1 + 3 * 2^-24 is halfway between two values whose even one is above.
  assert.deepEqual(pack32(0, -24, tie + 2n, RM_RNE), [0x3f800002, FLAG_NX]);
  assert.deepEqual(pack32(0, -24, tie, RM_RTZ), [0x3f800000, FLAG_NX]);
  assert.deepEqual(pack32(1, -24, tie, RM_RDN), [0xbf800001, FLAG_NX]);
  assert.deepEqual(pack32(1, -24, tie, RM_RUP), [0xbf800000, FLAG_NX]);
});

test('overflow gives infinity or the largest finite value depending on mode and sign', () => {
  const huge = 1n << 200n;
  assert.deepEqual(pack32(0, 0, huge, RM_RNE), [0x7f800000, FLAG_OF | FLAG_NX]);
  assert.deepEqual(pack32(0, 0, huge, RM_RTZ), [0x7f7fffff, FLAG_OF | FLAG_NX]);
  assert.deepEqual(pack32(0, 0, huge, RM_RDN), [0x7f7fffff, FLAG_OF | FLAG_NX]);
  assert.deepEqual(pack32(1, 0, huge, RM_RDN), [0xff800000, FLAG_OF | FLAG_NX]);
  assert.deepEqual(pack32(1, 0, huge, RM_RUP), [0xff7fffff, FLAG_OF | FLAG_NX]);
  assert.deepEqual(pack32(1, 0, huge, RM_RMM), [0xff800000, FLAG_OF | FLAG_NX]);
  // Exactly the largest finite value: no overflow.
  assert.deepEqual(pack32(0, 104, 0xffffffn, RM_RNE), [0x7f7fffff, 0]);
});

test('tininess is detected after rounding (unpriv. spec 11.2)', () => {
  // 2^-126 * (1 - 2^-25): rounds to 2^-126 with unbounded exponent, so not tiny: NX only.
  const justBelow = (1n << 25n) - 1n; // times 2^-151
  assert.deepEqual(pack32(0, -151, justBelow, RM_RNE), [0x00800000, FLAG_NX]);
  // 2^-126 * (1 - 2^-24): exactly representable with 24 bits, so tiny, and inexact as a
  // subnormal (rounds up to 2^-126): UF.
  assert.deepEqual(pack32(0, -150, (1n << 24n) - 1n, RM_RNE), [0x00800000, FLAG_UF | FLAG_NX]);
  // In RTZ the first value stays below 2^-126 even with unbounded exponent: tiny.
  assert.deepEqual(pack32(0, -151, justBelow, RM_RTZ), [0x007fffff, FLAG_UF | FLAG_NX]);
  // An exact subnormal result raises nothing.
  assert.deepEqual(pack32(1, -149, 3n, RM_RNE), [0x80000003, 0]);
  // Below half the smallest subnormal: zero, or the smallest subnormal away from zero.
  assert.deepEqual(pack32(0, -152, 1n, RM_RNE), [0x00000000, FLAG_UF | FLAG_NX]);
  assert.deepEqual(pack32(0, -152, 1n, RM_RUP), [0x00000001, FLAG_UF | FLAG_NX]);
  assert.deepEqual(pack32(1, -150, 1n, RM_RMM), [0x80000001, FLAG_UF | FLAG_NX]);
  assert.deepEqual(pack32(1, -150, 1n, RM_RNE), [0x80000000, FLAG_UF | FLAG_NX]);
});
