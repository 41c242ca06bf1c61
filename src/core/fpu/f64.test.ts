import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add64, div64, fma64, mul64, sqrt64, sub64 } from './f64.js';
import { F64 } from './float-format.js';
import { fmaExact } from './exact-arithmetic.js';
import { FLAG_DZ, FLAG_NV, FLAG_NX, FLAG_OF, FLAG_UF, RM_RDN, RM_RMM, RM_RNE, RM_RTZ, RM_RUP, takeFlags } from './rounding.js';

const ONE = 0x3ff0000000000000n;
const TWO = 0x4000000000000000n;
const QNAN = 0x7ff8000000000000n;
const SNAN = 0x7ff0000000000001n;
const INF = 0x7ff0000000000000n;
const NEG_INF = 0xfff0000000000000n;
const NEG_ZERO = 0x8000000000000000n;
const MAX = 0x7fefffffffffffffn;
const MIN_NORMAL = 0x0010000000000000n;
const ULP_HALF = 0x3ca0000000000000n; // 2^-53

function run(f: () => bigint): [bigint, number] {
  takeFlags();
  const r = f();
  return [r, takeFlags()];
}

test('add64: ties in each rounding mode', () => {
  assert.deepEqual(run(() => add64(ONE, ULP_HALF, RM_RNE)), [ONE, FLAG_NX]);
  assert.deepEqual(run(() => add64(ONE, ULP_HALF, RM_RMM)), [ONE + 1n, FLAG_NX]);
  assert.deepEqual(run(() => add64(ONE + 1n, ULP_HALF, RM_RNE)), [ONE + 2n, FLAG_NX]);
  assert.deepEqual(run(() => add64(ONE, ULP_HALF, RM_RUP)), [ONE + 1n, FLAG_NX]);
  assert.deepEqual(run(() => sub64(ONE, ULP_HALF, RM_RDN)), [0x3fefffffffffffffn, 0]); // 1 - 2^-53 is exact
  assert.deepEqual(run(() => add64(ONE, TWO, RM_RTZ)), [0x4008000000000000n, 0]);
});

test('add64/sub64: zeros, infinities, NaNs and overflow', () => {
  assert.deepEqual(run(() => sub64(TWO, TWO, RM_RNE)), [0n, 0]);
  assert.deepEqual(run(() => sub64(TWO, TWO, RM_RDN)), [NEG_ZERO, 0]);
  assert.deepEqual(run(() => sub64(INF, INF, RM_RNE)), [QNAN, FLAG_NV]);
  assert.deepEqual(run(() => add64(SNAN, ONE, RM_RNE)), [QNAN, FLAG_NV]);
  assert.deepEqual(run(() => add64(0xfff8000000000123n, ONE, RM_RNE)), [QNAN, 0]);
  assert.deepEqual(run(() => add64(MAX, MAX, RM_RNE)), [INF, FLAG_OF | FLAG_NX]);
  assert.deepEqual(run(() => add64(MAX, MAX, RM_RDN)), [MAX, FLAG_OF | FLAG_NX]);
  assert.deepEqual(run(() => sub64(NEG_ZERO, MAX, RM_RUP)), [0xffefffffffffffffn, 0]);
  // Sums in the subnormal range are exact.
  assert.deepEqual(run(() => add64(1n, 2n, RM_RNE)), [3n, 0]);
  assert.deepEqual(run(() => sub64(MIN_NORMAL, 1n, RM_RNE)), [0x000fffffffffffffn, 0]);
});

test('mul64: underflow after rounding and overflow', () => {
  // 2^-1022 * (1 - 2^-53): tiny after rounding, rounds up to 2^-1022.
  assert.deepEqual(run(() => mul64(MIN_NORMAL, 0x3fefffffffffffffn, RM_RNE)), [MIN_NORMAL, FLAG_UF | FLAG_NX]);
  assert.deepEqual(run(() => mul64(MIN_NORMAL, 0x3fe0000000000000n, RM_RNE)), [0x0008000000000000n, 0]);
  assert.deepEqual(run(() => mul64(1n, 0x3fe0000000000000n, RM_RNE)), [0n, FLAG_UF | FLAG_NX]);
  assert.deepEqual(run(() => mul64(1n, 0x3fe0000000000000n, RM_RMM)), [1n, FLAG_UF | FLAG_NX]);
  assert.deepEqual(run(() => mul64(MAX, TWO, RM_RTZ)), [MAX, FLAG_OF | FLAG_NX]);
  assert.deepEqual(run(() => mul64(INF, NEG_ZERO, RM_RNE)), [QNAN, FLAG_NV]);
  assert.deepEqual(run(() => mul64(NEG_ZERO, TWO, RM_RNE)), [NEG_ZERO, 0]);
  // (1 + 2^-52)^2 = 1 + 2^-51 + 2^-104: RNE drops the tail, RUP keeps it.
  assert.deepEqual(run(() => mul64(ONE + 1n, ONE + 1n, RM_RNE)), [ONE + 2n, FLAG_NX]);
  assert.deepEqual(run(() => mul64(ONE + 1n, ONE + 1n, RM_RUP)), [ONE + 3n, FLAG_NX]);
});

test('div64 and sqrt64: special cases and rounding', () => {
  assert.deepEqual(run(() => div64(NEG_ZERO, NEG_ZERO, RM_RNE)), [QNAN, FLAG_NV]);
  assert.deepEqual(run(() => div64(TWO, NEG_ZERO, RM_RNE)), [NEG_INF, FLAG_DZ]);
  assert.deepEqual(run(() => div64(ONE, 0x4008000000000000n, RM_RNE)), [0x3fd5555555555555n, FLAG_NX]);
  assert.deepEqual(run(() => div64(ONE, 0x4008000000000000n, RM_RUP)), [0x3fd5555555555556n, FLAG_NX]);
  assert.deepEqual(run(() => div64(1n, TWO, RM_RNE)), [0n, FLAG_UF | FLAG_NX]); // 2^-1075: tie to even zero
  assert.deepEqual(run(() => div64(1n, TWO, RM_RMM)), [1n, FLAG_UF | FLAG_NX]);
  assert.deepEqual(run(() => sqrt64(NEG_ZERO, RM_RNE)), [NEG_ZERO, 0]);
  assert.deepEqual(run(() => sqrt64(0xbff0000000000000n, RM_RNE)), [QNAN, FLAG_NV]);
  assert.deepEqual(run(() => sqrt64(TWO, RM_RNE)), [0x3ff6a09e667f3bcdn, FLAG_NX]);
  assert.deepEqual(run(() => sqrt64(TWO, RM_RTZ)), [0x3ff6a09e667f3bccn, FLAG_NX]);
  assert.deepEqual(run(() => sqrt64(0x4010000000000000n, RM_RNE)), [TWO, 0]);
  assert.deepEqual(run(() => sqrt64(1n, RM_RNE)), [0x1e60000000000000n, 0]); // sqrt(2^-1074) = 2^-537
});

test('fma64: a single rounding and the inf*0 rule', () => {
  // (1 + 2^-52)^2 - (1 + 2^-51) = 2^-104 exactly.
  assert.deepEqual(run(() => fma64(ONE + 1n, ONE + 1n, 0xbff0000000000002n, RM_RNE)), [0x3970000000000000n, 0]);
  assert.deepEqual(run(() => fma64(INF, 0n, QNAN, RM_RNE)), [QNAN, FLAG_NV]);
  assert.deepEqual(run(() => fma64(NEG_INF, TWO, INF, RM_RNE)), [QNAN, FLAG_NV]);
  assert.deepEqual(run(() => fma64(TWO, TWO, 0xc010000000000000n, RM_RDN)), [NEG_ZERO, 0]);
  // 1 + 2^-53 + 2^-106: just above a tie, so nearest rounds up; the separately rounded sum would tie to 1.
  const a = 0x3ff0000000000001n; // 1 + 2^-52
  const b = 0x3ca0000000000001n; // 2^-53 (1 + 2^-52)
  assert.deepEqual(run(() => fma64(a, b, ONE, RM_RNE)), [ONE + 1n, FLAG_NX]);
  assert.deepEqual(run(() => fma64(a, b, ONE, RM_RTZ)), [ONE, FLAG_NX]);
  // The fast path and the exact path agree on it too.
  assert.deepEqual(run(() => fmaExact(F64, a, b, ONE, RM_RNE)), [ONE + 1n, FLAG_NX]);
});
