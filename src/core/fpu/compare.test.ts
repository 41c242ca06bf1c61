import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLASS_NEG_INF, CLASS_NEG_NORMAL, CLASS_NEG_SUBNORMAL, CLASS_NEG_ZERO, CLASS_POS_INF, CLASS_POS_NORMAL,
  CLASS_POS_SUBNORMAL, CLASS_POS_ZERO, CLASS_QUIET_NAN, CLASS_SIGNALING_NAN,
  classify32, classify64, eq32, eq64, le32, le64, lt32, lt64, max32, max64, min32, min64,
} from './compare.js';
import { FLAG_NV, takeFlags } from './rounding.js';

function run<T>(f: () => T): [T, number] {
  takeFlags();
  const r = f();
  return [r, takeFlags()];
}

const ONE32 = 0x3f800000;
const TWO32 = 0x40000000;
const QNAN32 = 0x7fc00000;
const SNAN32 = 0x7f800001;

test('min/max: a NaN operand yields the other one; two NaNs the canonical NaN (unpriv. spec 11.6)', () => {
  assert.deepEqual(run(() => min32(QNAN32, ONE32)), [ONE32, 0]);
  assert.deepEqual(run(() => max32(ONE32, 0xffc00001)), [ONE32, 0]);
  assert.deepEqual(run(() => min32(SNAN32, ONE32)), [ONE32, FLAG_NV]);
  assert.deepEqual(run(() => max32(0xffc00001, 0xffc00002)), [QNAN32, 0]);
  assert.deepEqual(run(() => max32(SNAN32, QNAN32)), [QNAN32, FLAG_NV]);
  assert.deepEqual(run(() => min64(0x7ff0000000000001n, 0x4000000000000000n)), [0x4000000000000000n, FLAG_NV]);
  assert.deepEqual(run(() => max64(0xfff8000000000000n, 0x7ff8000000000001n)), [0x7ff8000000000000n, 0]);
});

test('min/max: -0 orders below +0 and ordinary values compare numerically', () => {
  assert.deepEqual(run(() => min32(0, 0x80000000)), [0x80000000, 0]);
  assert.deepEqual(run(() => min32(0x80000000, 0)), [0x80000000, 0]);
  assert.deepEqual(run(() => max32(0x80000000, 0)), [0, 0]);
  assert.deepEqual(run(() => max64(0n, 0x8000000000000000n)), [0n, 0]);
  assert.deepEqual(run(() => min64(0n, 0x8000000000000000n)), [0x8000000000000000n, 0]);
  assert.equal(min32(0xbf800000, ONE32), 0xbf800000);
  assert.equal(max32(0xff800000, 0xff7fffff), 0xff7fffff);
  assert.equal(max64(0x3ff0000000000000n, 0x3ff0000000000001n), 0x3ff0000000000001n);
});

test('eq is quiet; lt and le signal on any NaN (unpriv. spec 11.8)', () => {
  assert.deepEqual(run(() => eq32(QNAN32, QNAN32)), [0, 0]);
  assert.deepEqual(run(() => eq32(SNAN32, ONE32)), [0, FLAG_NV]);
  assert.deepEqual(run(() => lt32(QNAN32, ONE32)), [0, FLAG_NV]);
  assert.deepEqual(run(() => le32(ONE32, QNAN32)), [0, FLAG_NV]);
  assert.deepEqual(run(() => eq32(0, 0x80000000)), [1, 0]);
  assert.deepEqual(run(() => lt32(0x80000000, 0)), [0, 0]);
  assert.deepEqual(run(() => le32(0x80000000, 0)), [1, 0]);
  assert.deepEqual(run(() => lt32(ONE32, TWO32)), [1, 0]);
  assert.deepEqual(run(() => le32(TWO32, ONE32)), [0, 0]);
  assert.deepEqual(run(() => eq64(0x7ff8000000000000n, 0n)), [0, 0]);
  assert.deepEqual(run(() => eq64(0x7ff0000000000001n, 0n)), [0, FLAG_NV]);
  assert.deepEqual(run(() => lt64(0xfff0000000000000n, 0x7ff0000000000000n)), [1, 0]);
  assert.deepEqual(run(() => le64(0x7ff8000000000000n, 0n)), [0, FLAG_NV]);
  assert.deepEqual(run(() => le64(0x3ff0000000000000n, 0x3ff0000000000000n)), [1, 0]);
});

test('classify sets exactly one bit of the fclass mask (unpriv. spec 11.9)', () => {
  const cases32: [number, number][] = [
    [0xff800000, CLASS_NEG_INF], [0xbf800000, CLASS_NEG_NORMAL], [0x807fffff, CLASS_NEG_SUBNORMAL],
    [0x80000000, CLASS_NEG_ZERO], [0, CLASS_POS_ZERO], [1, CLASS_POS_SUBNORMAL], [0x7f7fffff, CLASS_POS_NORMAL],
    [0x7f800000, CLASS_POS_INF], [0xff800001, CLASS_SIGNALING_NAN], [0xffc00000, CLASS_QUIET_NAN],
  ];
  for (const [bits, mask] of cases32) assert.equal(classify32(bits), mask, bits.toString(16));
  const cases64: [bigint, number][] = [
    [0xfff0000000000000n, CLASS_NEG_INF], [0x8010000000000000n, CLASS_NEG_NORMAL],
    [0x8000000000000001n, CLASS_NEG_SUBNORMAL], [0x8000000000000000n, CLASS_NEG_ZERO], [0n, CLASS_POS_ZERO],
    [0x000fffffffffffffn, CLASS_POS_SUBNORMAL], [0x3ff0000000000000n, CLASS_POS_NORMAL],
    [0x7ff0000000000000n, CLASS_POS_INF], [0x7ff0000000000001n, CLASS_SIGNALING_NAN],
    [0x7ff8000000000000n, CLASS_QUIET_NAN],
  ];
  for (const [bits, mask] of cases64) assert.equal(classify64(bits), mask, bits.toString(16));
  assert.deepEqual([CLASS_NEG_INF, CLASS_QUIET_NAN], [1, 512]);
});
