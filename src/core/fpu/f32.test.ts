import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add32, div32, fma32, mul32, sqrt32, sub32 } from './f32.js';
import { FLAG_DZ, FLAG_NV, FLAG_NX, FLAG_OF, FLAG_UF, RM_RDN, RM_RMM, RM_RNE, RM_RTZ, RM_RUP, takeFlags } from './rounding.js';

const ONE = 0x3f800000;
const QNAN = 0x7fc00000;
const SNAN = 0x7f800001;
const INF = 0x7f800000;
const NEG_INF = 0xff800000;
const NEG_ZERO = 0x80000000;
const MAX = 0x7f7fffff;

function run(f: () => number): [number, number] {
  takeFlags();
  const r = f() >>> 0;
  return [r, takeFlags()];
}

test('add32: exact, inexact and tie cases in each rounding mode', () => {
  assert.deepEqual(run(() => add32(ONE, ONE, RM_RNE)), [0x40000000, 0]);
  // 1 + 2^-24: a tie between 1 and 1 + 2^-23.
  const half = 0x33800000;
  assert.deepEqual(run(() => add32(ONE, half, RM_RNE)), [ONE, FLAG_NX]);
  assert.deepEqual(run(() => add32(ONE, half, RM_RMM)), [0x3f800001, FLAG_NX]);
  assert.deepEqual(run(() => add32(ONE, half, RM_RUP)), [0x3f800001, FLAG_NX]);
  assert.deepEqual(run(() => add32(ONE, half, RM_RTZ)), [ONE, FLAG_NX]);
  // (1 + 2^-23) + 2^-24 ties to the even 1 + 2^-22.
  assert.deepEqual(run(() => add32(0x3f800001, half, RM_RNE)), [0x3f800002, FLAG_NX]);
});

test('add32/sub32: signs of exact zeros (IEEE 754-2008 6.3)', () => {
  assert.deepEqual(run(() => sub32(ONE, ONE, RM_RNE)), [0, 0]);
  assert.deepEqual(run(() => sub32(ONE, ONE, RM_RDN)), [NEG_ZERO, 0]);
  assert.deepEqual(run(() => add32(NEG_ZERO, NEG_ZERO, RM_RNE)), [NEG_ZERO, 0]);
  assert.deepEqual(run(() => add32(NEG_ZERO, 0, RM_RNE)), [0, 0]);
  assert.deepEqual(run(() => add32(NEG_ZERO, 0, RM_RDN)), [NEG_ZERO, 0]);
});

test('add32: infinities and NaNs', () => {
  assert.deepEqual(run(() => add32(INF, NEG_INF, RM_RNE)), [QNAN, FLAG_NV]);
  assert.deepEqual(run(() => add32(INF, MAX, RM_RNE)), [INF, 0]);
  assert.deepEqual(run(() => add32(0xffc12345, ONE, RM_RNE)), [QNAN, 0]); // payload and sign dropped
  assert.deepEqual(run(() => add32(ONE, SNAN, RM_RNE)), [QNAN, FLAG_NV]);
  assert.deepEqual(run(() => add32(MAX, MAX, RM_RNE)), [INF, FLAG_OF | FLAG_NX]);
  assert.deepEqual(run(() => add32(MAX, MAX, RM_RTZ)), [MAX, FLAG_OF | FLAG_NX]);
});

test('mul32: underflow, overflow and ties', () => {
  // 2^-126 * (1 - 2^-24): tiny after rounding, rounds up to 2^-126.
  assert.deepEqual(run(() => mul32(0x00800000, 0x3f7fffff, RM_RNE)), [0x00800000, FLAG_UF | FLAG_NX]);
  assert.deepEqual(run(() => mul32(0x00800000, 0x3f000000, RM_RNE)), [0x00400000, 0]); // exact subnormal
  assert.deepEqual(run(() => mul32(0x00000001, 0x3f000000, RM_RNE)), [0, FLAG_UF | FLAG_NX]);
  assert.deepEqual(run(() => mul32(0x00000001, 0x3f000000, RM_RMM)), [1, FLAG_UF | FLAG_NX]);
  assert.deepEqual(run(() => mul32(0x00000001, 0xbf000000, RM_RDN)), [0x80000001, FLAG_UF | FLAG_NX]);
  assert.deepEqual(run(() => mul32(MAX, 0x40000000, RM_RUP)), [INF, FLAG_OF | FLAG_NX]);
  assert.deepEqual(run(() => mul32(MAX, 0xc0000000, RM_RUP)), [0xff7fffff, FLAG_OF | FLAG_NX]);
  assert.deepEqual(run(() => mul32(INF, 0, RM_RNE)), [QNAN, FLAG_NV]);
  assert.deepEqual(run(() => mul32(NEG_ZERO, ONE, RM_RNE)), [NEG_ZERO, 0]);
});

test('div32: division by zero, invalid quotients and rounding', () => {
  assert.deepEqual(run(() => div32(ONE, 0, RM_RNE)), [INF, FLAG_DZ]);
  assert.deepEqual(run(() => div32(ONE, NEG_ZERO, RM_RNE)), [NEG_INF, FLAG_DZ]);
  assert.deepEqual(run(() => div32(0, 0, RM_RNE)), [QNAN, FLAG_NV]);
  assert.deepEqual(run(() => div32(INF, INF, RM_RNE)), [QNAN, FLAG_NV]);
  assert.deepEqual(run(() => div32(INF, 0, RM_RNE)), [INF, 0]);
  assert.deepEqual(run(() => div32(ONE, INF, RM_RNE)), [0, 0]);
  // 1/3 = 0x3eaaaaab in RNE and RUP, 0x3eaaaaaa in RTZ and RDN.
  assert.deepEqual(run(() => div32(ONE, 0x40400000, RM_RNE)), [0x3eaaaaab, FLAG_NX]);
  assert.deepEqual(run(() => div32(ONE, 0x40400000, RM_RTZ)), [0x3eaaaaaa, FLAG_NX]);
  assert.deepEqual(run(() => div32(0xbf800000, 0x40400000, RM_RUP)), [0xbeaaaaaa, FLAG_NX]);
  assert.deepEqual(run(() => div32(0x40c00000, 0x40400000, RM_RNE)), [0x40000000, 0]);
});

test('sqrt32: signed zero, negatives and rounding', () => {
  assert.deepEqual(run(() => sqrt32(NEG_ZERO, RM_RNE)), [NEG_ZERO, 0]);
  assert.deepEqual(run(() => sqrt32(0xbf800000, RM_RNE)), [QNAN, FLAG_NV]);
  assert.deepEqual(run(() => sqrt32(NEG_INF, RM_RNE)), [QNAN, FLAG_NV]);
  assert.deepEqual(run(() => sqrt32(INF, RM_RNE)), [INF, 0]);
  assert.deepEqual(run(() => sqrt32(0x40800000, RM_RNE)), [0x40000000, 0]);
  // sqrt(2) = 1.0110101000001001111001100110011111110011101111...: 0x3fb504f3 nearest, 0x3fb504f4 up.
  assert.deepEqual(run(() => sqrt32(0x40000000, RM_RNE)), [0x3fb504f3, FLAG_NX]);
  assert.deepEqual(run(() => sqrt32(0x40000000, RM_RUP)), [0x3fb504f4, FLAG_NX]);
  assert.deepEqual(run(() => sqrt32(1, RM_RNE)), [0x1a3504f3, FLAG_NX]); // sqrt(2^-149) is normal
});

test('fma32: one rounding, inf*0 and NaN rules (unpriv. spec 11.6)', () => {
  // (1 + 2^-12)^2 - 1 = 2^-11 + 2^-24 exactly; a separate multiply would lose the 2^-24.
  assert.deepEqual(run(() => fma32(0x3f800800, 0x3f800800, 0xbf800000, RM_RNE)), [0x3a000400, 0]);
  assert.deepEqual(run(() => fma32(INF, 0, QNAN, RM_RNE)), [QNAN, FLAG_NV]);
  assert.deepEqual(run(() => fma32(0, NEG_INF, ONE, RM_RNE)), [QNAN, FLAG_NV]);
  assert.deepEqual(run(() => fma32(INF, ONE, NEG_INF, RM_RNE)), [QNAN, FLAG_NV]);
  assert.deepEqual(run(() => fma32(ONE, ONE, SNAN, RM_RNE)), [QNAN, FLAG_NV]);
  // fnmadd flips the signs of a and c: a sign-flipped qNaN is still quiet and gives the canonical NaN.
  assert.deepEqual(run(() => fma32(0xffc00000, ONE, 0x80000000, RM_RNE)), [QNAN, 0]);
  // x*y + c where x*y = -c exactly: +0, or -0 when rounding down.
  assert.deepEqual(run(() => fma32(ONE, ONE, 0xbf800000, RM_RNE)), [0, 0]);
  assert.deepEqual(run(() => fma32(ONE, ONE, 0xbf800000, RM_RDN)), [NEG_ZERO, 0]);
  // 0 * x + -0: the product's sign decides against -0.
  assert.deepEqual(run(() => fma32(0, 0xbf800000, NEG_ZERO, RM_RNE)), [NEG_ZERO, 0]);
  assert.deepEqual(run(() => fma32(0, ONE, NEG_ZERO, RM_RNE)), [0, 0]);
  assert.deepEqual(run(() => fma32(0, ONE, 0x40400000, RM_RNE)), [0x40400000, 0]);
});

test('binary32 operands may arrive as int32 (the hart reads registers with | 0)', () => {
  const negOne = 0xbf800000 | 0;
  assert.ok(negOne < 0);
  assert.deepEqual(run(() => add32(negOne, ONE, RM_RNE)), [0, 0]);
  assert.deepEqual(run(() => mul32(negOne, negOne, RM_RTZ)), [ONE, 0]);
  assert.deepEqual(run(() => sub32(ONE, negOne, RM_RNE)), [0x40000000, 0]);
});
